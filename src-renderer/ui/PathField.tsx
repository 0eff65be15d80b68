import { desktop } from '../client.js';

interface Props {
  value: string;
  onChange: (path: string) => void;
  /** Enter in the field, or a path chosen with Browse… */
  onSubmit?: (path: string) => void;
  label: string;
  placeholder: string;
  /** What Browse… picks (desktop only: a browser cannot tell a page where a file lives). */
  pick: { kind: 'file'; title: string; extensions: string[] } | { kind: 'folder'; title: string };
  autoFocus?: boolean;
}

/** A file or folder path: typed, or picked with the desktop app's native dialog. */
export function PathField({ value, onChange, onSubmit, label, placeholder, pick, autoFocus }: Props) {
  const browse = async () => {
    const picked =
      pick.kind === 'file' ? await desktop?.pickFile({ title: pick.title, extensions: pick.extensions }) : await desktop?.pickFolder({ title: pick.title });
    if (picked) {
      onChange(picked);
      onSubmit?.(picked);
    }
  };
  return (
    <>
      <input
        className="grow mono"
        placeholder={placeholder}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        onKeyDown={(e) => e.key === 'Enter' && onSubmit?.(value)}
        aria-label={label}
        autoFocus={autoFocus}
      />
      {desktop && (
        <button className="secondary" onClick={() => void browse()}>
          Browse…
        </button>
      )}
    </>
  );
}
