import { MODEL_ROLES, type ModelRole } from '../../../src-shared/domain/models.js';

export function RolePicker({ value, onChange }: { value: ModelRole[]; onChange: (roles: ModelRole[]) => void }) {
  return (
    <span className="role-picker">
      {MODEL_ROLES.map((r) => (
        <label key={r}>
          <input type="checkbox" checked={value.includes(r)} onChange={(e) => onChange(e.target.checked ? [...value, r] : value.filter((x) => x !== r))} /> {r}
        </label>
      ))}
    </span>
  );
}
