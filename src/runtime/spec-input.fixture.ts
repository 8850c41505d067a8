// A complete SpecInput with Docker's defaults, for the spec builder's tests to override.
import type { SpecInput } from './runtime.js';

export function specInput(
  over: Partial<SpecInput> & Pick<SpecInput, 'id' | 'rootfs' | 'cgroupsPath'>,
): SpecInput {
  return {
    readonlyRootfs: false,
    args: ['true'],
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    cwd: '/',
    uid: 0,
    gid: 0,
    additionalGids: [0],
    terminal: false,
    hostname: over.id.slice(0, 12),
    mounts: [],
    privileged: false,
    capAdd: [],
    capDrop: [],
    noNewPrivileges: false,
    ulimits: [],
    resources: {},
    shmSize: 0,
    devices: [],
    sysctls: {},
    ...over,
  };
}
