// Command and flag table: names, types, usage text and defaults as the docker CLI 28 prints them
// in `--help`, so that `berth COMMAND --help` reads like docker's. Generated once from docker's help
// output and then kept by hand; behaviour lives in commands/*.ts.

import type { CommandSpec, FlagSpec } from './spec-types.js';

/** Commands list their flags in name order, as pflag prints them. */
function sorted(...flags: FlagSpec[]): FlagSpec[] {
  return flags.sort((a, b) => (a.long < b.long ? -1 : a.long > b.long ? 1 : 0));
}

/** The flags of CONTAINER_CONFIG_FLAGS with these names, for commands that take a subset. */
function configFlags(...longs: string[]): FlagSpec[] {
  return longs.map((long) => {
    const f = CONTAINER_CONFIG_FLAGS.find((c) => c.long === long);
    if (!f) throw new Error(`spec-data: no container flag --${long}`);
    return f;
  });
}

// Flags that several commands take with the same text.
const FORMAT_JSON_USAGE =
  "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates";
const FORMAT_TABLE_USAGE =
  "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates";
const FORMAT_JSON_F: FlagSpec = { long: 'format', short: 'f', type: 'string', usage: FORMAT_JSON_USAGE };
const FORMAT_JSON: FlagSpec = { long: 'format', type: 'string', usage: FORMAT_JSON_USAGE };
const FORMAT_TABLE: FlagSpec = { long: 'format', type: 'string', usage: FORMAT_TABLE_USAGE };
const CHANGE: FlagSpec = {
  long: 'change',
  short: 'c',
  type: 'list',
  usage: 'Apply Dockerfile instruction to the created image',
};
const DETACH_KEYS: FlagSpec = {
  long: 'detach-keys',
  type: 'string',
  usage: 'Override the key sequence for detaching a container',
};
const FILTER: FlagSpec = {
  long: 'filter',
  short: 'f',
  type: 'filter',
  usage: 'Filter output based on conditions provided',
};
const NO_TRUNC: FlagSpec = { long: 'no-trunc', type: 'bool', usage: "Don't truncate output" };
const QUIET_IMAGE_IDS: FlagSpec = { long: 'quiet', short: 'q', type: 'bool', usage: 'Only show image IDs' };
const OUTPUT: FlagSpec = {
  long: 'output',
  short: 'o',
  type: 'string',
  usage: 'Write to a file, instead of STDOUT',
};
const PLATFORM: FlagSpec = {
  long: 'platform',
  type: 'string',
  usage: 'Set platform if server is multi-platform capable',
};
const PRUNE_FILTER: FlagSpec = {
  long: 'filter',
  type: 'filter',
  usage: 'Provide filter values (e.g. "until=<timestamp>")',
};
const PRUNE_FORCE: FlagSpec = {
  long: 'force',
  short: 'f',
  type: 'bool',
  usage: 'Do not prompt for confirmation',
};
const SIZE: FlagSpec = { long: 'size', short: 's', type: 'bool', usage: 'Display total file sizes' };
const SIGNAL: FlagSpec = {
  long: 'signal',
  short: 's',
  type: 'string',
  usage: 'Signal to send to the container',
};
const STOP_TIMEOUT: FlagSpec = {
  long: 'timeout',
  short: 't',
  type: 'int',
  usage: 'Seconds to wait before killing the container',
};
const ALL_CONTAINERS: FlagSpec = {
  long: 'all',
  short: 'a',
  type: 'bool',
  usage: 'Show all containers',
  def: 'shows just running',
};

/** What `create` and `run` both take; `exec` and `update` reuse some of them by name. */
const CONTAINER_CONFIG_FLAGS: FlagSpec[] = [
  { long: 'add-host', type: 'list', usage: 'Add a custom host-to-IP mapping (host:ip)' },
  {
    long: 'annotation',
    type: 'map',
    usage: 'Add an annotation to the container (passed through to the OCI runtime)',
    def: 'map[]',
  },
  { long: 'attach', short: 'a', type: 'list', usage: 'Attach to STDIN, STDOUT or STDERR' },
  {
    long: 'blkio-weight',
    type: 'uint16',
    usage: 'Block IO (relative weight), between 10 and 1000, or 0 to disable',
    def: '0',
  },
  {
    long: 'blkio-weight-device',
    type: 'list',
    usage: 'Block IO weight (relative device weight)',
    def: '[]',
  },
  { long: 'cap-add', type: 'list', usage: 'Add Linux capabilities' },
  { long: 'cap-drop', type: 'list', usage: 'Drop Linux capabilities' },
  { long: 'cgroup-parent', type: 'string', usage: 'Optional parent cgroup for the container' },
  {
    long: 'cgroupns',
    type: 'string',
    usage:
      "Cgroup namespace to use (host|private)\n'host':    Run the container in the Docker host's cgroup namespace\n'private': Run the container in its own private cgroup namespace\n'':        Use the cgroup namespace as configured by the\n           default-cgroupns-mode option on the daemon (default)",
  },
  { long: 'cidfile', type: 'string', usage: 'Write the container ID to the file' },
  { long: 'cpu-count', type: 'int', usage: 'CPU count (Windows only)' },
  { long: 'cpu-percent', type: 'int', usage: 'CPU percent (Windows only)' },
  { long: 'cpu-period', type: 'int', usage: 'Limit CPU CFS (Completely Fair Scheduler) period' },
  { long: 'cpu-quota', type: 'int', usage: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
  { long: 'cpu-rt-period', type: 'int', usage: 'Limit CPU real-time period in microseconds' },
  { long: 'cpu-rt-runtime', type: 'int', usage: 'Limit CPU real-time runtime in microseconds' },
  { long: 'cpu-shares', short: 'c', type: 'int', usage: 'CPU shares (relative weight)' },
  { long: 'cpus', type: 'decimal', usage: 'Number of CPUs' },
  { long: 'cpuset-cpus', type: 'string', usage: 'CPUs in which to allow execution (0-3, 0,1)' },
  { long: 'cpuset-mems', type: 'string', usage: 'MEMs in which to allow execution (0-3, 0,1)' },
  { long: 'device', type: 'list', usage: 'Add a host device to the container' },
  { long: 'device-cgroup-rule', type: 'list', usage: 'Add a rule to the cgroup allowed devices list' },
  {
    long: 'device-read-bps',
    type: 'list',
    usage: 'Limit read rate (bytes per second) from a device',
    def: '[]',
  },
  {
    long: 'device-read-iops',
    type: 'list',
    usage: 'Limit read rate (IO per second) from a device',
    def: '[]',
  },
  {
    long: 'device-write-bps',
    type: 'list',
    usage: 'Limit write rate (bytes per second) to a device',
    def: '[]',
  },
  {
    long: 'device-write-iops',
    type: 'list',
    usage: 'Limit write rate (IO per second) to a device',
    def: '[]',
  },
  { long: 'disable-content-trust', type: 'bool', usage: 'Skip image verification', def: 'true' },
  { long: 'dns', type: 'list', usage: 'Set custom DNS servers' },
  { long: 'dns-option', type: 'list', usage: 'Set DNS options' },
  { long: 'dns-search', type: 'list', usage: 'Set custom DNS search domains' },
  { long: 'domainname', type: 'string', usage: 'Container NIS domain name' },
  { long: 'entrypoint', type: 'string', usage: 'Overwrite the default ENTRYPOINT of the image' },
  { long: 'env', short: 'e', type: 'list', usage: 'Set environment variables' },
  { long: 'env-file', type: 'list', usage: 'Read in a file of environment variables' },
  { long: 'expose', type: 'list', usage: 'Expose a port or a range of ports' },
  {
    long: 'gpus',
    type: 'gpu-request',
    usage: "GPU devices to add to the container ('all' to pass all GPUs)",
  },
  { long: 'group-add', type: 'list', usage: 'Add additional groups to join' },
  { long: 'health-cmd', type: 'string', usage: 'Command to run to check health' },
  {
    long: 'health-interval',
    type: 'duration',
    usage: 'Time between running the check (ms|s|m|h)',
    def: '0s',
  },
  { long: 'health-retries', type: 'int', usage: 'Consecutive failures needed to report unhealthy' },
  {
    long: 'health-start-interval',
    type: 'duration',
    usage: 'Time between running the check during the start period (ms|s|m|h)',
    def: '0s',
  },
  {
    long: 'health-start-period',
    type: 'duration',
    usage: 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h)',
    def: '0s',
  },
  {
    long: 'health-timeout',
    type: 'duration',
    usage: 'Maximum time to allow one check to run (ms|s|m|h)',
    def: '0s',
  },
  { long: 'help', type: 'bool', usage: 'Print usage' },
  { long: 'hostname', short: 'h', type: 'string', usage: 'Container host name' },
  {
    long: 'init',
    type: 'bool',
    usage: 'Run an init inside the container that forwards signals and reaps processes',
  },
  { long: 'interactive', short: 'i', type: 'bool', usage: 'Keep STDIN open even if not attached' },
  {
    long: 'io-maxbandwidth',
    type: 'bytes',
    usage: 'Maximum IO bandwidth limit for the system drive (Windows only)',
  },
  { long: 'io-maxiops', type: 'uint', usage: 'Maximum IOps limit for the system drive (Windows only)' },
  { long: 'ip', type: 'string', usage: 'IPv4 address (e.g., 172.30.100.104)' },
  { long: 'ip6', type: 'string', usage: 'IPv6 address (e.g., 2001:db8::33)' },
  { long: 'ipc', type: 'string', usage: 'IPC mode to use' },
  { long: 'isolation', type: 'string', usage: 'Container isolation technology' },
  { long: 'kernel-memory', type: 'bytes', usage: 'Kernel memory limit' },
  { long: 'label', short: 'l', type: 'list', usage: 'Set meta data on a container' },
  { long: 'label-file', type: 'list', usage: 'Read in a line delimited file of labels' },
  { long: 'link', type: 'list', usage: 'Add link to another container' },
  { long: 'link-local-ip', type: 'list', usage: 'Container IPv4/IPv6 link-local addresses' },
  { long: 'log-driver', type: 'string', usage: 'Logging driver for the container' },
  { long: 'log-opt', type: 'list', usage: 'Log driver options' },
  { long: 'mac-address', type: 'string', usage: 'Container MAC address (e.g., 92:d0:c6:0a:29:33)' },
  { long: 'memory', short: 'm', type: 'bytes', usage: 'Memory limit' },
  { long: 'memory-reservation', type: 'bytes', usage: 'Memory soft limit' },
  {
    long: 'memory-swap',
    type: 'bytes',
    usage: "Swap limit equal to memory plus swap: '-1' to enable unlimited swap",
  },
  {
    long: 'memory-swappiness',
    type: 'int',
    usage: 'Tune container memory swappiness (0 to 100)',
    def: '-1',
  },
  { long: 'mount', type: 'mount', usage: 'Attach a filesystem mount to the container' },
  { long: 'name', type: 'string', usage: 'Assign a name to the container' },
  { long: 'network', type: 'network', usage: 'Connect a container to a network' },
  { long: 'network-alias', type: 'list', usage: 'Add network-scoped alias for the container' },
  { long: 'no-healthcheck', type: 'bool', usage: 'Disable any container-specified HEALTHCHECK' },
  { long: 'oom-kill-disable', type: 'bool', usage: 'Disable OOM Killer' },
  { long: 'oom-score-adj', type: 'int', usage: "Tune host's OOM preferences (-1000 to 1000)" },
  { long: 'pid', type: 'string', usage: 'PID namespace to use' },
  { long: 'pids-limit', type: 'int', usage: 'Tune container pids limit (set -1 for unlimited)' },
  PLATFORM,
  { long: 'privileged', type: 'bool', usage: 'Give extended privileges to this container' },
  { long: 'publish', short: 'p', type: 'list', usage: "Publish a container's port(s) to the host" },
  { long: 'publish-all', short: 'P', type: 'bool', usage: 'Publish all exposed ports to random ports' },
  { long: 'quiet', short: 'q', type: 'bool', usage: 'Suppress the pull output' },
  { long: 'read-only', type: 'bool', usage: "Mount the container's root filesystem as read only" },
  {
    long: 'restart',
    type: 'string',
    usage: 'Restart policy to apply when a container exits',
    def: '"no"',
  },
  {
    long: 'rm',
    type: 'bool',
    usage: 'Automatically remove the container and its associated anonymous volumes when it exits',
  },
  { long: 'runtime', type: 'string', usage: 'Runtime to use for this container' },
  { long: 'security-opt', type: 'list', usage: 'Security Options' },
  { long: 'shm-size', type: 'bytes', usage: 'Size of /dev/shm' },
  { long: 'stop-signal', type: 'string', usage: 'Signal to stop the container' },
  { long: 'stop-timeout', type: 'int', usage: 'Timeout (in seconds) to stop a container' },
  { long: 'storage-opt', type: 'list', usage: 'Storage driver options for the container' },
  { long: 'sysctl', type: 'map', usage: 'Sysctl options', def: 'map[]' },
  { long: 'tmpfs', type: 'list', usage: 'Mount a tmpfs directory' },
  { long: 'tty', short: 't', type: 'bool', usage: 'Allocate a pseudo-TTY' },
  { long: 'ulimit', type: 'ulimit', usage: 'Ulimit options', def: '[]' },
  { long: 'use-api-socket', type: 'bool', usage: 'Bind mount Docker API socket and required auth' },
  {
    long: 'user',
    short: 'u',
    type: 'string',
    usage: 'Username or UID (format: <name|uid>[:<group|gid>])',
  },
  { long: 'userns', type: 'string', usage: 'User namespace to use' },
  { long: 'uts', type: 'string', usage: 'UTS namespace to use' },
  { long: 'volume', short: 'v', type: 'list', usage: 'Bind mount a volume' },
  { long: 'volume-driver', type: 'string', usage: 'Optional volume driver for the container' },
  { long: 'volumes-from', type: 'list', usage: 'Mount volumes from the specified container(s)' },
  { long: 'workdir', short: 'w', type: 'string', usage: 'Working directory inside the container' },
];

export const COMMAND_SPECS: CommandSpec[] = [
  {
    path: '',
    args: '[OPTIONS] COMMAND',
    desc: 'A self-sufficient runtime for containers',
    flags: [
      { long: 'config', type: 'string', usage: 'Location of client config files', def: '"/root/.docker"' },
      {
        long: 'context',
        short: 'c',
        type: 'string',
        usage:
          'Name of the context to use to connect to the daemon (overrides DOCKER_HOST env var and default context set with "docker context use")',
      },
      { long: 'debug', short: 'D', type: 'bool', usage: 'Enable debug mode' },
      { long: 'host', short: 'H', type: 'list', usage: 'Daemon socket to connect to' },
      {
        long: 'log-level',
        short: 'l',
        type: 'string',
        usage: 'Set the logging level ("debug", "info", "warn", "error", "fatal")',
        def: '"info"',
      },
      { long: 'tls', type: 'bool', usage: 'Use TLS; implied by --tlsverify' },
      {
        long: 'tlscacert',
        type: 'string',
        usage: 'Trust certs signed only by this CA',
        def: '"/root/.docker/ca.pem"',
      },
      {
        long: 'tlscert',
        type: 'string',
        usage: 'Path to TLS certificate file',
        def: '"/root/.docker/cert.pem"',
      },
      { long: 'tlskey', type: 'string', usage: 'Path to TLS key file', def: '"/root/.docker/key.pem"' },
      { long: 'tlsverify', type: 'bool', usage: 'Use TLS and verify the remote' },
      {
        long: 'version',
        short: 'v',
        type: 'bool',
        usage:
          'Print version information and quit\n for more information on a command.\n Docker, head to https://docs.docker.com/go/guides/',
      },
    ],
  },
  {
    path: 'version',
    args: '[OPTIONS]',
    desc: 'Show the Berth version information',
    flags: [FORMAT_JSON_F],
  },
  {
    path: 'inspect',
    args: '[OPTIONS] NAME|ID [NAME|ID...]',
    desc: 'Return low-level information on Berth objects',
    flags: [
      FORMAT_JSON_F,
      { long: 'size', short: 's', type: 'bool', usage: 'Display total file sizes if the type is container' },
      { long: 'type', type: 'string', usage: 'Only inspect objects of the given type' },
    ],
  },
  {
    path: 'image ls',
    args: '[OPTIONS] [REPOSITORY[:TAG]]',
    desc: 'List images',
    aliases: ['image list', 'images'],
    flags: [
      { long: 'all', short: 'a', type: 'bool', usage: 'Show all images', def: 'hides intermediate images' },
      { long: 'digests', type: 'bool', usage: 'Show digests' },
      FILTER,
      FORMAT_TABLE,
      NO_TRUNC,
      QUIET_IMAGE_IDS,
      { long: 'tree', type: 'bool', usage: 'List multi-platform images as a tree (EXPERIMENTAL)' },
    ],
  },
  {
    path: 'image inspect',
    args: '[OPTIONS] IMAGE [IMAGE...]',
    desc: 'Display detailed information on one or more images',
    flags: [
      FORMAT_JSON_F,
      {
        long: 'platform',
        type: 'string',
        usage:
          "Inspect a specific platform of the multi-platform image.\nIf the image or the server is not multi-platform capable, the command will error out if the platform does not match.\n'os[/arch[/variant]]': Explicit platform (eg. linux/amd64)",
      },
    ],
  },
  {
    path: 'image tag',
    args: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
    desc: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
    aliases: ['tag'],
    flags: [],
  },
  {
    path: 'image rm',
    args: '[OPTIONS] IMAGE [IMAGE...]',
    desc: 'Remove one or more images',
    aliases: ['image remove', 'rmi'],
    flags: [
      { long: 'force', short: 'f', type: 'bool', usage: 'Force removal of the image' },
      { long: 'no-prune', type: 'bool', usage: 'Do not delete untagged parents' },
      {
        long: 'platform',
        type: 'strings',
        usage:
          'Remove only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")',
      },
    ],
  },
  {
    path: 'image history',
    args: '[OPTIONS] IMAGE',
    desc: 'Show the history of an image',
    aliases: ['history'],
    flags: [
      FORMAT_TABLE,
      {
        long: 'human',
        short: 'H',
        type: 'bool',
        usage: 'Print sizes and dates in human readable format',
        def: 'true',
      },
      NO_TRUNC,
      {
        long: 'platform',
        type: 'string',
        usage:
          'Show history for the given platform. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")',
      },
      QUIET_IMAGE_IDS,
    ],
  },
  {
    path: 'image save',
    args: '[OPTIONS] IMAGE [IMAGE...]',
    desc: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
    aliases: ['save'],
    flags: [
      OUTPUT,
      {
        long: 'platform',
        type: 'string',
        usage:
          'Save only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")',
      },
    ],
  },
  {
    path: 'image load',
    args: '[OPTIONS]',
    desc: 'Load an image from a tar archive or STDIN',
    aliases: ['load'],
    flags: [
      { long: 'input', short: 'i', type: 'string', usage: 'Read from tar archive file, instead of STDIN' },
      {
        long: 'platform',
        type: 'string',
        usage:
          'Load only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")',
      },
      { long: 'quiet', short: 'q', type: 'bool', usage: 'Suppress the load output' },
    ],
  },
  {
    path: 'image import',
    args: '[OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
    desc: 'Import the contents from a tarball to create a filesystem image',
    aliases: ['import'],
    flags: [
      CHANGE,
      { long: 'message', short: 'm', type: 'string', usage: 'Set commit message for imported image' },
      PLATFORM,
    ],
  },
  {
    path: 'image prune',
    args: '[OPTIONS]',
    desc: 'Remove unused images',
    flags: [
      { long: 'all', short: 'a', type: 'bool', usage: 'Remove all unused images, not just dangling ones' },
      PRUNE_FILTER,
      PRUNE_FORCE,
    ],
  },
  {
    path: 'system df',
    args: '[OPTIONS]',
    desc: 'Show berth disk usage',
    flags: [
      FORMAT_TABLE,
      { long: 'verbose', short: 'v', type: 'bool', usage: 'Show detailed information on space usage' },
    ],
  },
  {
    path: 'system info',
    args: '[OPTIONS]',
    desc: 'Display system-wide information',
    aliases: ['info'],
    flags: [FORMAT_JSON_F],
  },
  {
    path: 'system events',
    args: '[OPTIONS]',
    desc: 'Get real time events from the server',
    aliases: ['events'],
    flags: [
      FILTER,
      FORMAT_JSON,
      { long: 'since', type: 'string', usage: 'Show all events created since timestamp' },
      { long: 'until', type: 'string', usage: 'Stream events until this timestamp' },
    ],
  },
  {
    path: 'system prune',
    args: '[OPTIONS]',
    desc: 'Remove unused data',
    flags: [
      { long: 'all', short: 'a', type: 'bool', usage: 'Remove all unused images not just dangling ones' },
      { long: 'filter', type: 'filter', usage: 'Provide filter values (e.g. "label=<key>=<value>")' },
      PRUNE_FORCE,
      { long: 'volumes', type: 'bool', usage: 'Prune anonymous volumes' },
    ],
  },
  {
    path: 'container attach',
    args: '[OPTIONS] CONTAINER',
    desc: 'Attach local standard input, output, and error streams to a running container',
    aliases: ['attach'],
    flags: [
      DETACH_KEYS,
      { long: 'no-stdin', type: 'bool', usage: 'Do not attach STDIN' },
      { long: 'sig-proxy', type: 'bool', usage: 'Proxy all received signals to the process', def: 'true' },
    ],
  },
  {
    path: 'container commit',
    args: '[OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
    desc: "Create a new image from a container's changes",
    aliases: ['commit'],
    flags: [
      {
        long: 'author',
        short: 'a',
        type: 'string',
        usage: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")',
      },
      CHANGE,
      { long: 'message', short: 'm', type: 'string', usage: 'Commit message' },
      { long: 'pause', short: 'p', type: 'bool', usage: 'Pause container during commit', def: 'true' },
    ],
  },
  {
    path: 'container cp',
    args: '[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
    desc: "Copy files/folders between a container and the local filesystem\n\nUse '-' as the source to read a tar archive from stdin\nand extract it to a directory destination in a container.\nUse '-' as the destination to stream a tar archive of a\ncontainer source to stdout.",
    aliases: ['cp'],
    flags: [
      { long: 'archive', short: 'a', type: 'bool', usage: 'Archive mode (copy all uid/gid information)' },
      { long: 'follow-link', short: 'L', type: 'bool', usage: 'Always follow symbol link in SRC_PATH' },
      {
        long: 'quiet',
        short: 'q',
        type: 'bool',
        usage:
          'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached',
      },
    ],
  },
  {
    path: 'container create',
    args: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
    desc: 'Create a new container',
    aliases: ['create'],
    flags: sorted(...CONTAINER_CONFIG_FLAGS, {
      long: 'pull',
      type: 'string',
      usage: 'Pull image before creating ("always", "|missing", "never")',
      def: '"missing"',
    }),
  },
  {
    path: 'container diff',
    args: 'CONTAINER',
    desc: "Inspect changes to files or directories on a container's filesystem",
    aliases: ['diff'],
    flags: [],
  },
  {
    path: 'container exec',
    args: '[OPTIONS] CONTAINER COMMAND [ARG...]',
    desc: 'Execute a command in a running container',
    aliases: ['exec'],
    flags: sorted(
      ...configFlags('env', 'env-file', 'interactive', 'tty', 'workdir'),
      { long: 'detach', short: 'd', type: 'bool', usage: 'Detached mode: run command in the background' },
      DETACH_KEYS,
      { long: 'privileged', type: 'bool', usage: 'Give extended privileges to the command' },
      {
        long: 'user',
        short: 'u',
        type: 'string',
        usage: 'Username or UID (format: "<name|uid>[:<group|gid>]")',
      },
    ),
  },
  {
    path: 'container export',
    args: '[OPTIONS] CONTAINER',
    desc: "Export a container's filesystem as a tar archive",
    aliases: ['export'],
    flags: [OUTPUT],
  },
  {
    path: 'container inspect',
    args: '[OPTIONS] CONTAINER [CONTAINER...]',
    desc: 'Display detailed information on one or more containers',
    flags: [FORMAT_JSON_F, SIZE],
  },
  {
    path: 'container kill',
    args: '[OPTIONS] CONTAINER [CONTAINER...]',
    desc: 'Kill one or more running containers',
    aliases: ['kill'],
    flags: [SIGNAL],
  },
  {
    path: 'container logs',
    args: '[OPTIONS] CONTAINER',
    desc: 'Fetch the logs of a container',
    aliases: ['logs'],
    flags: [
      { long: 'details', type: 'bool', usage: 'Show extra details provided to logs' },
      { long: 'follow', short: 'f', type: 'bool', usage: 'Follow log output' },
      {
        long: 'since',
        type: 'string',
        usage:
          'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
      },
      {
        long: 'tail',
        short: 'n',
        type: 'string',
        usage: 'Number of lines to show from the end of the logs',
        def: '"all"',
      },
      { long: 'timestamps', short: 't', type: 'bool', usage: 'Show timestamps' },
      {
        long: 'until',
        type: 'string',
        usage:
          'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
      },
    ],
  },
  {
    path: 'container ls',
    args: '[OPTIONS]',
    desc: 'List containers',
    aliases: ['container list', 'container ps', 'ps'],
    flags: [
      ALL_CONTAINERS,
      FILTER,
      FORMAT_TABLE,
      {
        long: 'last',
        short: 'n',
        type: 'int',
        usage: 'Show n last created containers (includes all states)',
        def: '-1',
      },
      {
        long: 'latest',
        short: 'l',
        type: 'bool',
        usage: 'Show the latest created container (includes all states)',
      },
      NO_TRUNC,
      { long: 'quiet', short: 'q', type: 'bool', usage: 'Only display container IDs' },
      SIZE,
    ],
  },
  {
    path: 'container pause',
    args: 'CONTAINER [CONTAINER...]',
    desc: 'Pause all processes within one or more containers',
    aliases: ['pause'],
    flags: [],
  },
  {
    path: 'container port',
    args: 'CONTAINER [PRIVATE_PORT[/PROTO]]',
    desc: 'List port mappings or a specific mapping for the container',
    aliases: ['port'],
    flags: [],
  },
  {
    path: 'container prune',
    args: '[OPTIONS]',
    desc: 'Remove all stopped containers',
    flags: [PRUNE_FILTER, PRUNE_FORCE],
  },
  {
    path: 'container rename',
    args: 'CONTAINER NEW_NAME',
    desc: 'Rename a container',
    aliases: ['rename'],
    flags: [],
  },
  {
    path: 'container restart',
    args: '[OPTIONS] CONTAINER [CONTAINER...]',
    desc: 'Restart one or more containers',
    aliases: ['restart'],
    flags: [SIGNAL, STOP_TIMEOUT],
  },
  {
    path: 'container rm',
    args: '[OPTIONS] CONTAINER [CONTAINER...]',
    desc: 'Remove one or more containers',
    aliases: ['container remove', 'rm'],
    flags: [
      {
        long: 'force',
        short: 'f',
        type: 'bool',
        usage: 'Force the removal of a running container (uses SIGKILL)',
      },
      { long: 'link', short: 'l', type: 'bool', usage: 'Remove the specified link' },
      {
        long: 'volumes',
        short: 'v',
        type: 'bool',
        usage: 'Remove anonymous volumes associated with the container',
      },
    ],
  },
  {
    path: 'container run',
    args: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
    desc: 'Create and run a new container from an image',
    aliases: ['run'],
    flags: sorted(
      ...CONTAINER_CONFIG_FLAGS,
      {
        long: 'detach',
        short: 'd',
        type: 'bool',
        usage: 'Run container in background and print container ID',
      },
      DETACH_KEYS,
      {
        long: 'pull',
        type: 'string',
        usage: 'Pull image before running ("always", "missing", "never")',
        def: '"missing"',
      },
      { long: 'sig-proxy', type: 'bool', usage: 'Proxy received signals to the process', def: 'true' },
    ),
  },
  {
    path: 'container start',
    args: '[OPTIONS] CONTAINER [CONTAINER...]',
    desc: 'Start one or more stopped containers',
    aliases: ['start'],
    flags: [
      { long: 'attach', short: 'a', type: 'bool', usage: 'Attach STDOUT/STDERR and forward signals' },
      { long: 'checkpoint', type: 'string', usage: 'Restore from this checkpoint' },
      { long: 'checkpoint-dir', type: 'string', usage: 'Use a custom checkpoint storage directory' },
      DETACH_KEYS,
      { long: 'interactive', short: 'i', type: 'bool', usage: "Attach container's STDIN" },
    ],
  },
  {
    path: 'container stats',
    args: '[OPTIONS] [CONTAINER...]',
    desc: 'Display a live stream of container(s) resource usage statistics',
    aliases: ['stats'],
    flags: [
      ALL_CONTAINERS,
      FORMAT_TABLE,
      { long: 'no-stream', type: 'bool', usage: 'Disable streaming stats and only pull the first result' },
      { long: 'no-trunc', type: 'bool', usage: 'Do not truncate output' },
    ],
  },
  {
    path: 'container stop',
    args: '[OPTIONS] CONTAINER [CONTAINER...]',
    desc: 'Stop one or more running containers',
    aliases: ['stop'],
    flags: [SIGNAL, STOP_TIMEOUT],
  },
  {
    path: 'container top',
    args: 'CONTAINER [ps OPTIONS]',
    desc: 'Display the running processes of a container',
    aliases: ['top'],
    flags: [],
  },
  {
    path: 'container unpause',
    args: 'CONTAINER [CONTAINER...]',
    desc: 'Unpause all processes within one or more containers',
    aliases: ['unpause'],
    flags: [],
  },
  {
    path: 'container update',
    args: '[OPTIONS] CONTAINER [CONTAINER...]',
    desc: 'Update configuration of one or more containers',
    aliases: ['update'],
    flags: sorted(
      ...configFlags(
        'blkio-weight',
        'cpu-period',
        'cpu-quota',
        'cpu-shares',
        'cpus',
        'cpuset-cpus',
        'cpuset-mems',
        'memory',
        'memory-reservation',
        'pids-limit',
      ),
      // docker words these few differently from create's.
      { long: 'cpu-rt-period', type: 'int', usage: 'Limit the CPU real-time period in microseconds' },
      { long: 'cpu-rt-runtime', type: 'int', usage: 'Limit the CPU real-time runtime in microseconds' },
      {
        long: 'memory-swap',
        type: 'bytes',
        usage: 'Swap limit equal to memory plus swap: -1 to enable unlimited swap',
      },
      { long: 'restart', type: 'string', usage: 'Restart policy to apply when a container exits' },
    ),
  },
  {
    path: 'container wait',
    args: 'CONTAINER [CONTAINER...]',
    desc: 'Block until one or more containers stop, then print their exit codes',
    aliases: ['wait'],
    flags: [],
  },
];
