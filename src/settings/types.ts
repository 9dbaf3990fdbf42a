// The contract between the settings core (src/settings, the only place that reads environment
// variables) and the stages that use settings. Executors, the broker, the config layer and the CLI take
// these plain objects and never read `process.env` themselves.

export type ExecutorKind = 'local' | 'slurm' | 'ssh';
/**
 * `auto`: the simulator's script and the declared job-dir scripts go through sbatch, any other script
 * through TensorRT-LLM's submit.py (which passes it its ~30 arguments).
 */
export type Launcher = 'auto' | 'sbatch' | 'submit.py';
/** What actually starts a job once `auto` is decided. */
export type SubmitLauncher = Exclude<Launcher, 'auto'>;
export type ResourceMode = 'config' | 'single';

/** SSH input as the user gave it (plugin options over env); ~/.ssh/config is applied by the executor. */
export interface SshInput {
  /** Host name or ~/.ssh/config alias (DISAGG_SSH_HOST / `ssh.host`). */
  host?: string;
  port?: number;
  username?: string;
  privateKeyPath?: string;
  /** ssh-agent socket (SSH_AUTH_SOCK), or false: never use the agent. */
  agent?: string | false;
  /** known_hosts files in order (DISAGG_SSH_KNOWN_HOSTS, colon-separated). */
  knownHostsPaths?: string[];
  /** ProxyJump spec (`[user@]host[:port][,...]`) or `none`. */
  proxyJump?: string;
  /** Job dirs go under this dir on the login node (DISAGG_REMOTE_DIR); relative = under the remote home. */
  remoteDir?: string;
  /** ssh config file (DISAGG_SSH_CONFIG), default `<homeDir>/.ssh/config`. */
  sshConfigPath?: string;
}

/** Everything an executor needs to know, resolved once. No field is read from the environment later. */
export interface ExecutorSettings {
  kind: ExecutorKind;
  /** sbatch partition / account when the config has none (DISAGG_PARTITION, DISAGG_ACCOUNT). */
  partition?: string;
  account?: string;
  /** DISAGG_LAUNCHER; undefined = auto. */
  launcher?: Launcher;
  /**
   * Script file names (basenames) that read their config from the job dir, so plain sbatch can start
   * them without arguments (DISAGG_JOB_DIR_SCRIPTS / `slurm.jobDirScripts`); the simulator's is implied.
   */
  jobDirScripts?: string[];
  /** DISAGG_SBATCH_RESOURCES; undefined = automatic. */
  resources?: ResourceMode;
  /** submit.py's folder on the submit host (DISAGG_SCRIPT_DIR, else SCRIPT_DIR). */
  scriptDir?: string;
  /** Where `scriptDir` was set (`SCRIPT_DIR=… (in <env file>)`, `DISAGG_SCRIPT_DIR=…`, the option), for messages. */
  scriptDirSource?: string;
  /** Folders on this machine where a config's `script_file` is looked for (SCRIPT_DIR, env file too). */
  scriptSearchDirs: string[];
  /** Launcher folder on the cluster for scripts not found here (ssh only; DISAGG_SCRIPT_DIR or SCRIPT_DIR). */
  remoteScriptDir?: string;
  ssh: SshInput;
  /** This machine's user name and home dir (defaults for SSH user, keys, ~ expansion). */
  localUser: string;
  homeDir: string;
  /**
   * Environment for the processes we start (SLURM commands, local jobs): passed through, never read
   * for settings.
   */
  childEnv: Record<string, string | undefined>;
}
