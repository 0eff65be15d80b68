// Run by refusals.test.ts as its own process: starts a KD export whose writer holds midway, says so on stdout, and
// waits to be killed (SIGKILL) there, with the folder half assembled.
import { harness, kdWriter } from './harness.js';
import { contract } from '../../src-shared/contract/index.js';

const [dataDir, outDir, modelId] = process.argv.slice(2) as [string, string, string];
const h = harness(dataDir, kdWriter({ hold: () => process.stdout.write('HOLDING\n') }));
const input = contract['training.export'].input.parse({
  dataset: 'support',
  trainer: 'axolotl',
  studentHfId: 'Qwen/Qwen2.5-0.5B-Instruct',
  kd: { studentModelId: Number(modelId) },
  outDir,
});
await h.training.start(input);
setInterval(() => undefined, 1000); // until killed
