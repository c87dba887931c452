// Sandbox helpers for end-to-end tests and scripts.
export * from './config.ts';
export { httpRequest, httpsRequest, sandboxRequest, sandboxCaBundle, fixedLookup, defaultResolve, setDomainHost, DEFAULT_EDGE_ADDRESS, waitFor } from './http.ts';
export type { SandboxRequestOptions, SandboxResponse } from './http.ts';
export { runLoad, startLoad, planMix, summarize } from './load.ts';
export type { LoadHandle, LoadMixEntry, LoadOptions, LoadResult, LoadSample } from './load.ts';
export { readSandboxStatus, observeStatus, writeStatus, formatStatus } from './status.ts';
export type { SandboxHostStatus, SandboxStatus } from './status.ts';
export { run, ok, CommandError } from './proc.ts';
export type { RunOptions, RunResult } from './proc.ts';
export { REGISTRY_CREDENTIALS, S3_CREDENTIALS, PEBBLE_MINICA, PEBBLE_ROOT, PEBBLE_INTERMEDIATE } from './services.ts';
export {
  onConsole, onHost, restartDocker, rebootHost, cutNetwork, restoreNetwork, cutSsh, restoreSsh, resetHost, engineId, routeDomainToHost, unrouteDomain,
} from './fleet.ts';
export { startFront, startEchoOrigin, ensureFrontImage, FRONT_IMAGE, FRONT_LABEL } from './front.ts';
export type { FrontContainer, FrontOptions } from './front.ts';
