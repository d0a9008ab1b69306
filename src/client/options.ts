/** Option parsers shared by commands: each bad value is a usage error (exit 2) that says what to write. */
import { InvalidArgumentError } from 'commander';
import { HOST_NAME_FIX, hostProblem, LOG_LEVELS } from '../model/worker-defaults.js';

export function parsePort(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 65535) {
    throw new InvalidArgumentError(`"${value}" is not a port; use a number from 1 to 65535.`);
  }
  return Number(value);
}

export function parsePositiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError(`"${value}" is not a positive whole number.`);
  return Number(value);
}

export function parseNonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`"${value}" is not a whole number (0 or more).`);
  return Number(value);
}

/** A log level in any case (the config file stores it lower-case): trace, debug, info, warn, error. */
export function parseLogLevel(value: string): (typeof LOG_LEVELS)[number] {
  const level = value.toUpperCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new InvalidArgumentError(`"${value}" is not a log level; use one of ${LOG_LEVELS.join(', ')} (any case).`);
  return level as (typeof LOG_LEVELS)[number];
}

export function parsePositiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`"${value}" is not a number greater than 0.`);
  return n;
}

/** host:port to listen on, e.g. 127.0.0.1:9464 or 0.0.0.0:9464. */
export function parseListen(value: string): string {
  const match = /^(\d{1,3}(?:\.\d{1,3}){3}|localhost|\[[0-9a-f:]+\]):(\d{1,5})$/i.exec(value);
  if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) throw new InvalidArgumentError(`"${value}" is not host:port; write it like 127.0.0.1:9464 (0.0.0.0:9464 listens on every interface).`);
  return value;
}

export function parseHost(value: string): string {
  const problem = hostProblem(value);
  if (problem) throw new InvalidArgumentError(`${problem}; ${HOST_NAME_FIX}.`);
  return value;
}
