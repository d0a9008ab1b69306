/** Inputs, progress and results of the server workflows. Pure; the CLI reads them too. */
import { defineQuery } from '@temporalio/workflow';
import type { Registry } from '../config/registry-schema.js';
import type { ServerSpec, Settings } from '../config/settings-schema.js';
import { startupOrder } from '../graph/order.js';
import type { HostRequest } from './worker-defaults.js';

export interface ServerCreateInput extends HostRequest {
  settings: Settings;
  /** Hostnames to create; all servers of the settings when absent. */
  servers?: string[];
  checkMode?: boolean;
  /** With a registry, the services the "server" operation requires are ensured first. */
  registry?: Registry;
  home?: string;
  platform?: string;
}

export type TaskservState = 'pending' | 'installing' | 'checking' | 'checked' | 'failed';

export interface TaskservProgress {
  name: string;
  state: TaskservState;
  /** Epoch ms when its install (or, when it was installed already, its check) started. */
  startedAt?: number;
  /** A fresh install: install, record and check together. */
  installMs?: number;
  /** An installed taskserv: its check alone. */
  checkMs?: number;
  output?: string;
}

export type ServerState = 'pending' | 'creating' | 'waiting-ready' | 'installing' | 'ready' | 'failed' | 'rolled-back' | 'cancelled';

export interface ServerProgress {
  hostname: string;
  state: ServerState;
  /** False when the server existed already. */
  created?: boolean;
  order: string[];
  taskservs: TaskservProgress[];
  error?: string;
}

export interface ServerPlan {
  hostname: string;
  provider: string;
  exists: boolean;
  taskservOrder: string[];
}

export interface RequiredService {
  name: string;
  running: boolean;
  autoStart: boolean;
}

export interface ServerCreateResult {
  infra: string;
  checkMode: boolean;
  ok: boolean;
  plan?: { servers: ServerPlan[]; requiredServices: RequiredService[] };
  servers: ServerProgress[];
}

export interface ServerCreateProgress {
  infra: string;
  phase: 'required-services' | 'planning' | 'creating' | 'done';
  servers: Array<{ hostname: string; state: ServerState | 'queued'; workflowId: string }>;
}

/** The taskservs a server gets, dependencies first. */
export function taskservOrder(settings: Pick<Settings, 'taskservs'>, wanted: readonly string[]): string[] {
  if (wanted.length === 0) return [];
  const nodes = Object.values(settings.taskservs).map((t) => ({ name: t.name, dependencies: t.dependencies }));
  return startupOrder(nodes, wanted);
}

export function selectServers(settings: Settings, hostnames?: readonly string[]): ServerSpec[] {
  if (!hostnames || hostnames.length === 0) return settings.servers;
  return hostnames.map((h) => settings.servers.find((s) => s.hostname === h)!);
}

// The messages of the workflow, defined once: the workflow sets their handlers, the front ends call them.
export const serverProgressQuery = defineQuery<ServerProgress>('serverProgress');
export const serverCreateProgressQuery = defineQuery<ServerCreateProgress>('serverCreateProgress');

export type SettingsContext = Pick<Settings, 'infra' | 'source' | 'network' | 'providers' | 'catalog'>;

export interface ServerInput {
  settings: SettingsContext;
  server: ServerSpec;
}

export interface TaskservRun {
  taskserv: string;
  /** The steps this run performed: a fresh install is checked in the same run. */
  steps: TaskservStep[];
  exitCode: number;
  /** The last lines of its output. */
  output: string;
  startedAt: number;
  durationMs: number;
}

export type TaskservStep = 'install' | 'check' | 'test';
