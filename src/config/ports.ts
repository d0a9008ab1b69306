/** Docker-style port mappings: `[host_ip:]host_port:container_port[/proto]` or `container_port[/proto]`. Pure. */

export interface PortMapping {
  hostIp: string;
  hostPort?: number;
  containerPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
}

/** Published on loopback unless the mapping names a host address. */
export const DEFAULT_HOST_IP = '127.0.0.1';

function parsePort(text: string, which: string): number | string {
  if (!/^\d+$/.test(text)) return `${which} port "${text}" is not a number`;
  const n = Number(text);
  if (n < 1 || n > 65535) return `${which} port ${n} is out of range (1-65535)`;
  return n;
}

export function parsePortMapping(spec: string): PortMapping | { error: string } {
  const [addressPart, protoPart, extra] = spec.split('/');
  if (extra !== undefined) return { error: `"${spec}" has more than one "/"` };
  const protocol = (protoPart ?? 'tcp') as PortMapping['protocol'];
  if (!['tcp', 'udp', 'sctp'].includes(protocol)) return { error: `protocol "${protoPart}" is not tcp, udp or sctp` };
  const addr = addressPart ?? '';
  // An IPv6 host address is written in brackets: [::1]:8080:80
  const v6 = /^\[([^\]]+)\]:(.*)$/.exec(addr);
  const parts = v6 ? [v6[1]!, ...v6[2]!.split(':')] : addr.split(':');
  let hostIp = DEFAULT_HOST_IP;
  let hostPortText: string | undefined;
  let containerText: string;
  if (parts.length === 1) containerText = parts[0]!;
  else if (parts.length === 2) [hostPortText, containerText] = parts as [string, string];
  else if (parts.length === 3) [hostIp, hostPortText, containerText] = parts as [string, string, string];
  else return { error: `"${spec}" is not [host_ip:]host_port:container_port[/protocol]` };
  const containerPort = parsePort(containerText, 'container');
  if (typeof containerPort === 'string') return { error: containerPort };
  let hostPort: number | undefined;
  if (hostPortText !== undefined && hostPortText !== '') {
    const parsed = parsePort(hostPortText, 'host');
    if (typeof parsed === 'string') return { error: parsed };
    hostPort = parsed;
  }
  return { hostIp, containerPort, protocol, ...(hostPort !== undefined ? { hostPort } : {}) };
}
