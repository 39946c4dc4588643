import { afterEach, describe, expect, it } from 'vitest';
import { FakeBackend } from '../backends/fake.js';
import { probeBackend } from '../run/isolate.js';
import { createBackends } from '../backends/registry.js';
import { lavapipeEnv } from './helpers/cli.js';

// probes in a child process inherit this process's environment, so the tests set it and put it back
const saved = { ...process.env };
afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});

describe('engines on a card are probed in a process of their own', () => {
  it('tfjs-webgpu is found on lavapipe while this process never starts Dawn', async () => {
    const env = lavapipeEnv();
    expect(env, 'no .cache/lavapipe: run npm run setup:lavapipe').toBeDefined();
    Object.assign(process.env, env);
    const probe = await probeBackend(createBackends()['tfjs-webgpu']);
    expect(probe).toMatchObject({ available: true, hardware: false });
    expect(probe.available && probe.detail).toMatch(/llvmpipe/);
    // in-process, the probe would have installed Dawn's navigator.gpu here
    expect((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu).toBeUndefined();
  });

  it('a probe that crashes its process makes the backend unavailable, with the reason', async () => {
    process.env.MOEBENCH_FAKE_SCRIPT = JSON.stringify({ latenciesMs: [1], probeCrash: true });
    const probe = await probeBackend(new FakeBackend({ latenciesMs: [1], probeCrash: true }));
    expect(probe).toEqual({
      available: false,
      reason: 'the probe crashed: killed by SIGSEGV',
      fix: 'see the driver and library messages above; moebench env lists every backend',
    });
  });

  it('a host engine is probed in this process', async () => {
    const probe = await probeBackend(new FakeBackend({ latenciesMs: [1], placement: 'host' }));
    expect(probe).toEqual({ available: true, detail: 'scripted latencies for tests', hardware: false });
  });
});
