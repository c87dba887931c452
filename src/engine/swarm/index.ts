// The Swarm engine: a cluster app as one stack (src/engine/engine.ts says what an engine is).
import type { Engine } from '../engine.ts';
import { deployToCluster } from './deploy.ts';
import { rollbackCluster } from './rollback.ts';

export const swarmEngine: Engine = {
  name: 'swarm',
  deploy: deployToCluster,
  rollback: rollbackCluster,
};
