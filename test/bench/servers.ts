/**
 * The servers a bench run compares, each in its own process so that neither shares an event loop
 * with the bench client: the embedded archive (`npm start`, lib/local/main.ts) and Orthanc with its
 * DICOMweb plugin and its GDCM plugin for JPEG 2000 (Debian packages `orthanc`, `orthanc-dicomweb`,
 * `orthanc-gdcm`), both on 127.0.0.1.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { ARCHIVE_NODE_FLAGS, ARCHIVE_START } from '../../lib/local/node-flags';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { TransferSyntax } from '../../lambdas/dicom/uid';
import { freePort } from '../support/net';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A DICOMweb server under test: `url` is its service root (the Studies service is `${url}/studies`). */
export interface DicomwebServer {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  /** The last lines the server wrote to stderr, where it keeps them (to explain a failed run). */
  recentErrors?(): string;
  close(): Promise<void>;
}

export interface ArchiveServer extends DicomwebServer {
  /** Its data directory; the SEND-RS destination registry is `${dataDir}/destinations.json`. */
  readonly dataDir: string;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const forced = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(forced);
}

/**
 * Waits for a line of the child's stdout matching `pattern`; rejects if the child exits first, with
 * what it last wrote to stderr (`recentStderr`).
 */
function waitForLine(child: ChildProcess, pattern: RegExp, what: string, recentStderr: () => string): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (d: Buffer) => {
      buffered += d.toString();
      const match = pattern.exec(buffered);
      if (match) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve(match);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}) before it was ready: ${recentStderr().trim()}`)));
  });
}

/**
 * The embedded archive as `npm start` runs it (emulators and handlers in one Node process), on a
 * fresh data directory removed on close. `env` takes the variables of lambdas/config.ts.
 */
export async function startArchiveProcess(env: Readonly<Record<string, string>> = {}): Promise<ArchiveServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-archive-'));
  // node itself (as npm start runs it), so that `pid` is the server, not a wrapper.
  // BENCH_CPU_PROF=<dir>: a V8 CPU profile of the archive's main thread, written there when it stops.
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...profile, ...ARCHIVE_NODE_FLAGS, path.join(PROJECT_ROOT, ARCHIVE_START)], {
    cwd: PROJECT_ROOT,
    // Every port ephemeral (DIMSE too), so several benches or a running archive never collide.
    env: { ...process.env, ...env, PORT: '0', DIMSE_PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  try {
    const [, url] = await waitForLine(child, /archive ready at (http:\/\/\S+)/, 'the embedded archive', () => stderr);
    return {
      name: 'archive',
      url: url!,
      dataDir,
      pid: child.pid!,
      recentErrors: () => stderr,
      close: async () => {
        await stop(child);
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stop(child);
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

const ORTHANC = '/usr/sbin/Orthanc';

/** A plugin's shared library, as its Debian package installed it. */
function pluginLibrary(pkg: string, library: RegExp): string | undefined {
  const listed = spawnSync('dpkg', ['-L', pkg], { encoding: 'utf8' });
  if (listed.status !== 0) return undefined;
  const libraries = listed.stdout.split('\n').filter((f) => library.test(f) && existsSync(f));
  return libraries.find((f) => f.endsWith('.so')) ?? libraries[0];
}

const dicomwebPlugin = () => pluginLibrary('orthanc-dicomweb', /libOrthancDicomWeb\.so/);
/**
 * Orthanc's GDCM plugin: its decoders of JPEG 2000 (and others DCMTK lacks), which Orthanc's
 * rendering needs for the JPEG 2000 rows; without it those rows show Orthanc's error.
 */
const gdcmPlugin = () => pluginLibrary('orthanc-gdcm', /libOrthancGdcm\.so/);

export interface OrthancInstallation {
  readonly executable: string;
  readonly plugin: string;
  /** The GDCM plugin, when installed. */
  readonly gdcmPlugin?: string;
  readonly version: string;
  readonly pluginVersion: string;
}

/**
 * Finds Orthanc, its DICOMweb plugin and its GDCM plugin; installs them with apt-get when missing and
 * running as root. Answers the reason instead when Orthanc or its DICOMweb plugin cannot be had, so the
 * bench can skip the Orthanc columns (without GDCM only the JPEG 2000 rows lack Orthanc's figure).
 */
export function ensureOrthanc(log: (line: string) => void): OrthancInstallation | string {
  const missing = () => !existsSync(ORTHANC) || !dicomwebPlugin();
  if ((missing() || !gdcmPlugin()) && process.getuid?.() === 0) {
    log('installing orthanc, orthanc-dicomweb and orthanc-gdcm with apt-get ...');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const update = spawnSync('apt-get', ['update'], { env, stdio: 'ignore' });
    const install = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'orthanc', 'orthanc-dicomweb', 'orthanc-gdcm'], {
      env,
      stdio: 'ignore',
    });
    if ((update.status !== 0 || install.status !== 0) && missing()) return 'apt-get could not install orthanc and orthanc-dicomweb';
  }
  if (missing() && process.getuid?.() !== 0) return 'Orthanc is not installed and the bench is not running as root to install it';
  const plugin = dicomwebPlugin();
  if (!existsSync(ORTHANC) || !plugin) return 'Orthanc or its DICOMweb plugin is missing after installation';
  const packageVersion = (pkg: string) =>
    spawnSync('dpkg-query', ['-W', '-f', '${Version}', pkg], { encoding: 'utf8' }).stdout.trim() || 'unknown';
  return {
    executable: ORTHANC,
    plugin,
    gdcmPlugin: gdcmPlugin(),
    version: packageVersion('orthanc'),
    pluginVersion: packageVersion('orthanc-dicomweb'),
  };
}

export interface OrthancServer extends DicomwebServer {
  /** Orthanc's own REST API root (the DICOMweb root is `${restUrl}/dicom-web`). */
  readonly restUrl: string;
}

export interface OrthancOptions {
  readonly name: string;
  /** DicomWeb "Servers": name -> DICOMweb root of another server, for Orthanc's STOW-RS forwarding. */
  readonly servers?: Readonly<Record<string, string>>;
}

/**
 * An Orthanc on 127.0.0.1 with a temporary configuration and storage: the DICOMweb plugin enabled,
 * no DICOM listener, remote access and authentication off, removed on close.
 */
export async function startOrthanc(installation: OrthancInstallation, opts: OrthancOptions): Promise<OrthancServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `bench-orthanc-${opts.name}-`));
  const httpPort = await freePort();
  const configuration = {
    Name: opts.name,
    StorageDirectory: path.join(dir, 'storage'),
    IndexDirectory: path.join(dir, 'index'),
    HttpPort: httpPort,
    DicomServerEnabled: false,
    DicomPort: await freePort(),
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    // Stored as received, like the archive (which keeps the Part 10 file exactly as sent).
    StorageCompression: false,
    HttpCompressionEnabled: false,
    SaveJobs: false,
    Plugins: [installation.plugin, ...(installation.gdcmPlugin ? [installation.gdcmPlugin] : [])],
    // GDCM for JPEG 2000 only, as Orthanc's book advises: the other syntaxes keep Orthanc's own decoders.
    Gdcm: { Enable: true, RestrictTransferSyntaxes: [TransferSyntax.JPEG2000Lossless, TransferSyntax.JPEG2000] },
    DicomWeb: {
      Enable: true,
      Root: '/dicom-web/',
      EnableWado: false,
      Servers: Object.fromEntries(Object.entries(opts.servers ?? {}).map(([name, url]) => [name, [`${url}/`]])),
    },
  };
  await mkdir(configuration.StorageDirectory, { recursive: true });
  const configFile = path.join(dir, 'orthanc.json');
  await writeFile(configFile, JSON.stringify(configuration, null, 2));
  const child = spawn(installation.executable, [configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const restUrl = `http://127.0.0.1:${httpPort}`;
  const close = async () => {
    await stop(child);
    await rm(dir, { recursive: true, force: true });
  };
  for (const deadline = Date.now() + 30_000; ; await sleep(100)) {
    if (child.exitCode !== null) {
      await close();
      throw new Error(`Orthanc ${opts.name} exited before it was ready: ${stderr.trim().slice(-500)}`);
    }
    const ready = await fetch(`${restUrl}/system`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await close();
      throw new Error(`Orthanc ${opts.name} did not answer within 30 s`);
    }
  }
  return { name: 'orthanc', url: `${restUrl}/dicom-web`, restUrl, pid: child.pid!, close };
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** User + system CPU seconds a process (all its threads) has used so far, from Linux /proc. */
/** A process's peak resident set size so far, in bytes (VmHWM of /proc/{pid}/status, Linux). */
export function peakRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(kb) * 1024;
}

export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after "pid (comm) ": state is field 3, utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}
