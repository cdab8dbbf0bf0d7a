// What every step executor gets: the target, its systemd client, the file seam's trust settings, owner-name
// resolution, and the state the transaction's recovery needs (what was reloaded, restarted, run).
import { OperationError } from '../core/errors.js';
import { layout, onHost, type Layout, type Target } from '../core/target.js';
import type { Action } from '../core/steps/types.js';
import type { Usec } from '../core/time.js';
import { readAccounts, type Accounts } from '../system/accounts.js';
import { trustedOwners } from '../system/receipts.js';
import type { Owners } from '../system/fs.js';
import { SystemdClient } from '../system/systemd.js';
import { faults, type StepPosition } from './faults.js';

/** What ran, for the recovery after the undos and for the report after the transaction. */
export interface RunState {
  reloaded: boolean;
  /** Units a restart step touched (even one that failed: they may be down), with how to recover them. */
  restarted: { units: string[]; revive: boolean }[];
  /** Jobs a run-job step started. */
  jobs: string[];
  /** Next elapses of the timers a check-active step saw. */
  nextElapse: Map<string, Usec | undefined>;
}

export class StepContext {
  readonly layout: Layout;
  readonly systemd: SystemdClient;
  readonly owners: Owners;
  readonly state: RunState = { reloaded: false, restarted: [], jobs: [], nextElapse: new Map() };
  /** The step running now (fault injection names it). */
  step: StepPosition = { index: 0, total: 0, kind: '' };
  private accounts: Accounts | undefined;

  constructor(readonly target: Target) {
    this.layout = layout(target);
    this.systemd = new SystemdClient(target);
    this.owners = trustedOwners(target);
  }

  /** Where a target path is on this machine. */
  at(p: string): string {
    return onHost(this.target, p);
  }

  /** uid and gid of owner and group names, as the target's files say now (a step may just have created them). */
  async ids(owner: string, group: string): Promise<{ uid: number; gid: number }> {
    // root is uid and gid 0 everywhere, also in a --root tree that has no /etc/passwd yet.
    if (owner === 'root' && group === 'root') return { uid: 0, gid: 0 };
    // The target's own owner (the user in user scope) is known by id, also when the passwd file does not list him (NSS).
    if (owner === this.target.user && group === this.target.group) return { uid: this.target.uid, gid: this.target.gid };
    this.accounts ??= await readAccounts(this.target);
    let user = this.accounts.users.get(owner);
    let grp = this.accounts.groups.get(group);
    if (!user || !grp) {
      this.accounts = await readAccounts(this.target);
      user = this.accounts.users.get(owner);
      grp = this.accounts.groups.get(group);
    }
    const where = this.target.offline ? ` in ${this.target.root}/etc (a --root tree gets the bundle's user at first boot)` : '';
    if (!user) throw new OperationError(`no user ${owner}${where} to own the file`, 'the bundle must declare the user (or it must exist)');
    if (!grp) throw new OperationError(`no group ${group}${where} to own the file`, 'the bundle must declare the group (or it must exist)');
    return { uid: user.uid, gid: grp.gid };
  }

  /**
   * A step that makes several changes calls this after the first of them: the test build's `fail-partway:N` fails
   * there, so that the undo of a step that stopped half-way is tested. Nothing in the shipped build.
   */
  partway(): void {
    faults?.partway(this.step);
  }

  /** The accounts changed (systemd-sysusers, userdel): read them again on the next lookup. */
  forgetAccounts(): void {
    this.accounts = undefined;
  }
}

/**
 * One step kind's side effects. `prepare` records what the step is about to change (before it acts), `perform` acts
 * (in a way that can be undone), and `undo` puts back exactly what `prepare` and the plan observed — whether perform succeeded, failed half-way or
 * was never reached. Undo is idempotent and tolerant of "nothing to undo". A kind without undo changes nothing
 * undoable (a check), or nothing at all.
 */
export interface Executor<A extends Action, M = undefined> {
  prepare?(action: A, ctx: StepContext): Promise<M>;
  /** Returns what a check found ("OK - …", "kept: not empty"), shown with the step. */
  perform(action: A, ctx: StepContext, memo: M): Promise<string | void>;
  undo?(action: A, ctx: StepContext, memo: M): Promise<void>;
  /**
   * What can only be done once the transaction stands, because it cannot be undone (delete what a purge moved aside):
   * run after the final receipts are written; returns what it did. A failure there is reported, never rolled back,
   * and the bundle's receipt stays unfinished so that running the command again completes it.
   */
  commit?(action: A, ctx: StepContext, memo: M): Promise<string | void>;
}

/** A check that ran and found a problem: the reason, and the outcome line to show with the step. */
export class CheckFailed extends OperationError {
  constructor(
    reason: string,
    readonly outcome: string,
  ) {
    super(reason);
  }
}
