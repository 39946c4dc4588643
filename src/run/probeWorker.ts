/** Probes one backend, named over IPC, and answers with its Probe: see probeProcess.ts for why in a process of its own. */
import { backendByName } from '../backends/registry.js';

process.on('disconnect', () => process.exit(1));
process.once('message', async (name: string) => {
  const probe = await backendByName(name).backend.probe();
  process.send!(probe, () => process.exit(0));
});
