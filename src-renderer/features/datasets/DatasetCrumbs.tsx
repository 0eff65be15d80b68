import type { ReactNode } from 'react';
import { datasetHref } from './exampleText.js';

/** A dataset sub-page's title: "Datasets / <name> / <what>", both crumbs links. */
export function DatasetCrumbs({ name, children }: { name: string; children: ReactNode }) {
  return (
    <>
      <a href="#/datasets" className="crumb">
        Datasets
      </a>{' '}
      / <a href={datasetHref(name)}>{name}</a> / {children}
    </>
  );
}
