// `distillery engine …`: which llama.cpp build the app runs on, and building one for this machine (native CPU
// instructions and OpenMP, 2–3× faster than node-llama-cpp's generic prebuilt binaries on many CPUs).
import { Option, type Command } from 'commander';
import { runToEnd, withClient } from './open.js';
import { dataDirOption, jsonOption, type Common } from './options.js';
import { print, type Io } from './output.js';

export function addEngineCommands(program: Command, io: Io): void {
  const engine = program.command('engine').description('the llama.cpp build inference runs on, and building one for this machine');
  engine
    .command('info')
    .description('the llama.cpp build node-llama-cpp loads (prebuilt or built here), its CPU features, and whether one can be built here')
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action((opts: Common) =>
      withClient(io, opts, async (c, app) => {
        await app.engine.llama();
        const [info, build] = await Promise.all([c.call('system.info', {}), c.call('system.engineBuildState', {})]);
        const result = { engine: info.engine, build };
        print(io, opts, result, () => {
          const b = info.engine.binary;
          const lines = [
            `engine\t${info.engine.gpu ?? 'not started'} · ${info.engine.defaultThreads} thread(s) by default · ${info.engine.cpuCores} cores`,
            b
              ? `build\t${b.origin === 'local-build' ? 'built on this machine' : "node-llama-cpp's prebuilt binary"} (llama.cpp ${b.release})`
              : 'build\tunknown',
            ...(b ? [`folder\t${b.folder}`, `backends\t${b.backends.join(', ')}`, `features\t${b.features}`] : []),
            `local builds\t${build.localBuilds.length ? build.localBuilds.join(', ') : 'none'}`,
            `can build\t${build.cannotBuild ? `no: ${build.cannotBuild}` : `yes (cmake ${build.cmake}, compiler ${build.compiler}): distillery engine build`}`,
          ];
          return lines.join('\n');
        });
      }),
    );
  engine
    .command('build')
    .description(
      'build llama.cpp for this machine from the source node-llama-cpp ships (no download; cmake and a C++ compiler; minutes), used from the next start',
    )
    .addOption(new Option('--gpu <gpu>', 'auto: CUDA/Vulkan when their SDK is installed, else CPU; cpu: CPU only').choices(['auto', 'cpu']).default('auto'))
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action((opts: Common & { gpu: 'auto' | 'cpu' }) => runToEnd(io, opts, (c) => c.call('system.engineBuild', { gpu: opts.gpu })));
}
