// A worker's `run` request carries the test's YAML file, so a hand-written test can run a config the
// main process did not discover; the server hands it to `onRun` before the broker sees the test.
import { afterEach, describe, expect, it } from 'vitest';
import type { JobBroker } from '../../../src/broker/broker.js';
import { BrokerClient } from '../../../src/broker/client.js';
import { BrokerEvents } from '../../../src/broker/events.js';
import { serveBroker, type BrokerServer } from '../../../src/broker/server.js';
import type { JobOutcome } from '../../../src/types.js';

const outcome = (testId: string): JobOutcome => ({
  testId,
  jobId: '1',
  state: 'COMPLETED',
  logDir: `/logs/${testId}`,
  resumed: false,
});

let server: BrokerServer | undefined;
let client: BrokerClient | undefined;
afterEach(async () => {
  client?.close();
  await server?.close();
});

describe('broker server: run requests with a config file', () => {
  it('passes the file to onRun before the broker runs the test', async () => {
    const seen: string[] = [];
    const broker = {
      events: new BrokerEvents(),
      run: async (id: string) => (seen.push(`run ${id}`), outcome(id)),
    };
    server = await serveBroker(broker as unknown as JobBroker, {
      onRun: (id, file) => void seen.push(`register ${id} ${file}`),
    });
    client = await BrokerClient.connect(server.socketPath);
    await expect(
      client.run('disagg_stress_sim', { configFile: '/app/configs/sim.yaml' }),
    ).resolves.toMatchObject({
      testId: 'disagg_stress_sim',
    });
    expect(seen).toEqual(['register disagg_stress_sim /app/configs/sim.yaml', 'run disagg_stress_sim']);
  });

  it('a refused registration fails that request with its reason, and the broker never sees it', async () => {
    const seen: string[] = [];
    const broker = { events: new BrokerEvents(), run: async (id: string) => (seen.push(id), outcome(id)) };
    server = await serveBroker(broker as unknown as JobBroker, {
      onRun: (id, file) => {
        if (file) throw new Error(`${file} has the test name ${id} of another config`);
      },
    });
    client = await BrokerClient.connect(server.socketPath);
    await expect(client.run('x', { configFile: '/b/x.yaml' })).rejects.toThrow(
      '/b/x.yaml has the test name x of another config',
    );
    await expect(client.run('y')).resolves.toMatchObject({ testId: 'y' });
    expect(seen).toEqual(['y']);
  });
});
