import { useState } from 'react';
import { flexRender, getCoreRowModel, getSortedRowModel, useReactTable, type ColumnDef, type SortingState } from '@tanstack/react-table';

interface Props<T> {
  data: T[];
  columns: ColumnDef<T, unknown>[];
  onRowClick?: (row: T) => void;
  rowTestId?: (row: T) => string;
  initialSort?: SortingState;
  className?: string;
  rowClassName?: (row: T) => string | undefined;
  testId?: string;
}

/** A sortable table (TanStack Table) with clickable rows. */
export function DataTable<T>({ data, columns, onRowClick, rowTestId, initialSort = [], className, rowClassName, testId }: Props<T>) {
  const [sorting, setSorting] = useState<SortingState>(initialSort);
  // TanStack Table hands out functions that change identity; React Compiler skips this component, which is fine.
  // eslint-disable-next-line react-hooks/incompatible-library
  const table = useReactTable({
    data,
    columns,
    state: { sorting },
    onSortingChange: setSorting,
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
  });
  return (
    <table className={className ? `table ${className}` : 'table'} data-testid={testId}>
      <thead>
        {table.getHeaderGroups().map((hg) => (
          <tr key={hg.id}>
            {hg.headers.map((h) => (
              <th
                key={h.id}
                onClick={h.column.getCanSort() ? h.column.getToggleSortingHandler() : undefined}
                className={h.column.getCanSort() ? 'sortable' : undefined}
                style={{ width: h.getSize() !== 150 ? h.getSize() : undefined }}
              >
                {flexRender(h.column.columnDef.header, h.getContext())}
                {{ asc: ' ▲', desc: ' ▼' }[h.column.getIsSorted() as string] ?? ''}
              </th>
            ))}
          </tr>
        ))}
      </thead>
      <tbody>
        {table.getRowModel().rows.map((row) => (
          <tr
            key={row.id}
            data-testid={rowTestId?.(row.original)}
            className={[onRowClick ? 'clickable' : '', rowClassName?.(row.original) ?? ''].filter(Boolean).join(' ') || undefined}
            onClick={onRowClick ? () => onRowClick(row.original) : undefined}
          >
            {row.getVisibleCells().map((cell) => (
              <td key={cell.id}>{flexRender(cell.column.columnDef.cell, cell.getContext())}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
