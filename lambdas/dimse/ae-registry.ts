/**
 * The AE registry of the DIMSE gateway: a view of the SEND-RS destination registry (the same file or
 * secret, lambdas/send/destinations.ts) by AE Title. It answers where a C-MOVE's Move Destination is
 * (PS3.4 C.4.2.1.4.1) and which sub-operation mechanism reaches it (C.4.2.3.1.1.9: "decision logic
 * for when it uses a C-STORE operation or a Store Transaction" and "rules for mapping AE Titles to
 * endpoints"):
 *
 * - an entry is found by its `aeTitle` (exact, case-sensitive, PS3.5 6.2 AE without padding);
 * - `subOperations` lists the mechanisms in order; a sub-operation that fails with one is retried
 *   with the next (C.4.2.3.1.1.7); warnings are never retried;
 * - absent `subOperations`: C-STORE to host:port (baseline behaviour, C.4.2.3.1.1.8).
 */
import type { Destination, DestinationRegistry, SubOperationMechanism } from '../send/destinations';

/** A Move Destination with the DIMSE address of its AE (aeTitle, host, port are all set). */
export interface ApplicationEntity {
  readonly aeTitle: string;
  readonly host: string;
  readonly port: number;
}

export interface MoveDestination {
  readonly destination: Destination;
  readonly mechanisms: readonly SubOperationMechanism[];
}

/** The registry entry of an AE Title, or undefined (C-MOVE answers A801, Move Destination unknown). */
export function findMoveDestination(registry: DestinationRegistry, aeTitle: string): MoveDestination | undefined {
  const wanted = aeTitle.trim();
  if (wanted === '') return undefined;
  const destination = registry.destinations.find((d) => d.aeTitle === wanted);
  return destination ? { destination, mechanisms: mechanismsOf(destination) } : undefined;
}

/** The sub-operation mechanisms of an entry, in order (see the module comment). */
export function mechanismsOf(destination: Destination): readonly SubOperationMechanism[] {
  return destination.subOperations ?? (dimseAddressOf(destination) ? ['c-store'] : ['stow']);
}

/** The DIMSE address of an entry, when it has a DIMSE mapping. */
export function dimseAddressOf(destination: Destination): ApplicationEntity | undefined {
  const { aeTitle, host, port } = destination;
  return aeTitle !== undefined && host !== undefined && port !== undefined ? { aeTitle, host, port } : undefined;
}

/**
 * PS3.4 C.4.2.3.1.1.7: sub-operations that fail with one mechanism are retried with the next; warnings
 * never are. `attempt` performs the items with one mechanism and returns those that failed; the result
 * is what failed with every mechanism tried (or was left when `stopped`, e.g. by C-CANCEL-MOVE).
 */
export async function retryWithNextMechanism<T>(
  mechanisms: readonly SubOperationMechanism[],
  items: readonly T[],
  attempt: (mechanism: SubOperationMechanism, items: readonly T[], isLast: boolean) => Promise<readonly T[]>,
  stopped: () => boolean = () => false,
): Promise<readonly T[]> {
  let todo = items;
  for (const [i, mechanism] of mechanisms.entries()) {
    if (todo.length === 0 || stopped()) break;
    todo = await attempt(mechanism, todo, i === mechanisms.length - 1);
  }
  return todo;
}
