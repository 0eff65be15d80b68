/** The main navigation's rooms, in order. The planned ones (PLANNED in PlannedPage) show what they will do. */
export const ROOMS: { id: string; label: string }[] = [
  { id: 'models', label: 'Models' },
  { id: 'datasets', label: 'Datasets' },
  { id: 'distill', label: 'Distill' },
  { id: 'train', label: 'Train' },
  { id: 'adapters', label: 'Adapters' },
  { id: 'quantize', label: 'Quantize' },
  { id: 'evaluate', label: 'Evaluate' },
  { id: 'runs', label: 'Runs' },
  { id: 'playground', label: 'Playground' },
  { id: 'settings', label: 'Settings' },
];
