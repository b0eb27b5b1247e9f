// The only module that talks to Tauri. Every command is typed with the types generated
// from Rust (./generated); every failure is an IpcError `{code, message}`.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import { open, save } from "@tauri-apps/plugin-dialog";
import { openUrl } from "@tauri-apps/plugin-opener";
import { errorText } from "./errorText";
import { SETTLE_MS, coalesced } from "../util/latest";
import type {
  AccountView,
  AttentionView,
  CommentId,
  CriterionId,
  CriterionInput,
  DefaultDiff,
  DeliverProgress,
  DiffLayout,
  DiffPair,
  DiffRow,
  DiffSummary,
  DraftView,
  EngagementEnd,
  ExportReport,
  FileSide,
  FileView,
  GapExpansion,
  Inbox,
  InboxGroup,
  Invite,
  MembersView,
  MyProfile,
  NoticePlan,
  NoticesShown,
  Role,
  IpcError,
  JoinInput,
  Ledger,
  LineTarget,
  NewSpecInput,
  OutboxEntry,
  PlacedThread,
  ReviewId,
  RevisionSummary,
  SearchHit,
  SectionKind,
  SignInInput,
  SpecDetail,
  SpecId,
  SpecStatus,
  SpecSummary,
  StoreChanged,
  StoreStatus,
  SyncProgress,
  SyncState,
  ThreadEventKind,
  ThreadId,
  ThreadTargetInput,
  Turnaround,
  Verdict,
  ViewedFiles,
  WorkspaceView,
  FirstRunInvite,
} from "./generated";

export type * from "./generated";
export { errorText, limitText } from "./errorText";

/** True when a value has the `{code, message}` shape of a command failure. */
export function isIpcError(e: unknown): e is IpcError {
  return (
    typeof e === "object" &&
    e !== null &&
    typeof (e as Record<string, unknown>).code === "string" &&
    typeof (e as Record<string, unknown>).message === "string"
  );
}

/** Any thrown value as an IpcError, so the UI always has a message to show. */
export function toIpcError(e: unknown): IpcError {
  if (isIpcError(e)) return e.limit ? { code: e.code, message: e.message, limit: e.limit } : { code: e.code, message: e.message };
  if (e instanceof Error) return { code: "internal", message: e.message };
  return { code: "internal", message: String(e) };
}

/**
 * Runs a UI action; resolves to the message it failed with, or null when it succeeded.
 * `field` names what the user was editing, for a clearer message when it is over a limit;
 * or it is a function that words the failure itself (from errorText's helpers).
 */
export async function attempt(action: () => Promise<unknown>, field?: string | ((e: IpcError) => string)): Promise<string | null> {
  const err = await attemptTyped(action);
  if (!err) return null;
  return typeof field === "function" ? field(err) : errorText(err, field);
}

/**
 * Like `attempt`, but resolves to the failure as a typed IpcError, for a screen that acts on
 * what failed (the diff viewer's Download offer) rather than only showing a message.
 */
export async function attemptTyped(action: () => Promise<unknown>): Promise<IpcError | null> {
  try {
    await action();
    return null;
  } catch (e) {
    return toIpcError(e);
  }
}

async function call<T>(command: string, args: Record<string, unknown> = {}): Promise<T> {
  // Rethrows, typed: callers see only IpcError, whatever Tauri threw.
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    throw toIpcError(e);
  }
}

export const api = {
  listSpecs: (workspace_id: string | null = null) => call<SpecSummary[]>("list_specs", { workspace_id }),
  specDetail: (spec_id: SpecId) => call<SpecDetail>("spec_detail", { spec_id }),
  createSpec: (input: NewSpecInput) => call<SpecId>("create_spec", { input }),
  setTitle: (spec_id: SpecId, title: string) => call<null>("set_title", { spec_id, title }),
  editSection: (spec_id: SpecId, section: SectionKind, text: string) =>
    call<null>("edit_section", { spec_id, section, text }),
  setStatus: (spec_id: SpecId, to: SpecStatus) => call<null>("set_status", { spec_id, to }),
  setDueDate: (spec_id: SpecId, due_date: string | null) => call<null>("set_due_date", { spec_id, due_date }),
  assign: (spec_id: SpecId, email: string) => call<null>("assign", { spec_id, email }),
  unassign: (spec_id: SpecId, email: string) => call<null>("unassign", { spec_id, email }),
  addCriterion: (spec_id: SpecId, text: string, after: CriterionId | null = null) =>
    call<CriterionId>("add_criterion", { spec_id, text, after }),
  editCriterion: (spec_id: SpecId, criterion_id: CriterionId, text: string) =>
    call<null>("edit_criterion", { spec_id, criterion_id, text }),
  moveCriterion: (spec_id: SpecId, criterion_id: CriterionId, after: CriterionId | null) =>
    call<null>("move_criterion", { spec_id, criterion_id, after }),
  removeCriterion: (spec_id: SpecId, criterion_id: CriterionId) =>
    call<null>("remove_criterion", { spec_id, criterion_id }),
  deliver: (spec_id: SpecId, dir: string, summary: string, addresses: ThreadId[] = []) =>
    call<RevisionSummary>("deliver", { spec_id, dir, summary, addresses }),
  createThread: (spec_id: SpecId, target: ThreadTargetInput, body: string) =>
    call<ThreadId>("create_thread", { spec_id, target, body }),
  reply: (spec_id: SpecId, thread_id: ThreadId, body: string) =>
    call<CommentId>("reply", { spec_id, thread_id, body }),
  setThreadState: (spec_id: SpecId, thread_id: ThreadId, event: ThreadEventKind) =>
    call<null>("set_thread_state", { spec_id, thread_id, event }),
  draftLineComment: (spec_id: SpecId, reviewing: number, target: LineTarget, body: string) =>
    call<CommentId>("draft_line_comment", { spec_id, reviewing, target, body }),
  draftReply: (spec_id: SpecId, reviewing: number, thread_id: ThreadId, body: string) =>
    call<CommentId>("draft_reply", { spec_id, reviewing, thread_id, body }),
  editDraft: (spec_id: SpecId, draft_id: CommentId, body: string) => call<null>("edit_draft", { spec_id, draft_id, body }),
  deleteDraft: (spec_id: SpecId, draft_id: CommentId) => call<null>("delete_draft", { spec_id, draft_id }),
  drafts: (spec_id: SpecId) => call<DraftView[]>("drafts", { spec_id }),
  publishReview: (spec_id: SpecId, number: number, verdict: Verdict, summary: string, criteria: CriterionInput[]) =>
    call<ReviewId>("publish_review", { spec_id, number, verdict, summary, criteria }),
  ledger: (spec_id: SpecId) => call<Ledger>("ledger", { spec_id }),
  myProfile: () => call<MyProfile>("my_profile"),
  /** The inbox: at most 50 specs, each with its newest 5 unread items; `more` and `more_specs` count what is left out. */
  inbox: (all: boolean) => call<Inbox>("inbox", { all }),
  /** How many inbox items are unread, counted without building the inbox (the header's badge). */
  inboxUnread: () => call<number>("inbox_unread"),
  /** One spec's inbox items (with `all`, read ones too), the newest 1,000: what its group left out. */
  inboxSpec: (spec_id: SpecId, all: boolean) => call<InboxGroup>("inbox_spec", { spec_id, all }),
  /** Marks a spec's items read up to `seq` (all when null); true when anything changed. */
  markRead: (spec_id: SpecId, seq: number | null) => call<boolean>("mark_read", { spec_id, seq }),
  markAllRead: () => call<number>("mark_all_read"),
  turnaround: (spec_id: SpecId | null) => call<Turnaround>("turnaround", { spec_id }),
  holdsNotices: () => call<boolean>("holds_notices"),
  noticePlan: () => call<NoticePlan>("notice_plan"),
  setHoldsNotices: (hold: boolean) => call<null>("set_holds_notices", { hold }),
  setMyProfile: (timezone: string, hours: string, days: string) => call<MyProfile>("set_my_profile", { timezone, hours, days }),
  acceptWithOverride: (spec_id: SpecId, reason: string) => call<null>("accept_with_override", { spec_id, reason }),
  markReadyWithOverride: (spec_id: SpecId, reason: string) => call<null>("mark_ready_with_override", { spec_id, reason }),
  confirmClaim: (spec_id: SpecId, thread_id: ThreadId) => call<null>("confirm_claim", { spec_id, thread_id }),
  reopenClaim: (spec_id: SpecId, thread_id: ThreadId, reply: string | null) =>
    call<null>("reopen_claim", { spec_id, thread_id, reply }),
  setFileViewed: (spec_id: SpecId, number: number, path: string, viewed: boolean) =>
    call<null>("set_file_viewed", { spec_id, number, path, viewed }),
  viewedFiles: (spec_id: SpecId, number: number) => call<ViewedFiles>("viewed_files", { spec_id, number }),
  threadsOnPair: (spec_id: SpecId, from: number, to: number) => call<PlacedThread[]>("threads_on_pair", { spec_id, from, to }),
  /** The rows showing each (side, line) in this layout; null for a line in hidden context. */
  diffRowsOfLines: (pair: DiffPair, file: number, layout: DiffLayout, expanded: GapExpansion[], lines: [FileSide, number][]) =>
    call<(number | null)[]>("diff_rows_of_lines", { pair, file, layout, expanded, lines }),
  search: (query: string, limit = 50) => call<SearchHit[]>("search", { query, limit }),
  status: () => call<StoreStatus>("status"),
  outbox: () => call<OutboxEntry[]>("outbox"),
  workspaces: () => call<WorkspaceView[]>("workspaces"),
  members: () => call<MembersView>("members"),
  inviteMember: (email: string, role: Role) => call<Invite>("invite_member", { email, role }),
  setMemberRole: (email: string, role: Role) => call<null>("set_member_role", { email, role }),
  removeMember: (email: string) => call<null>("remove_member", { email }),
  engagementEnd: (spec_id: SpecId) => call<EngagementEnd>("engagement_end", { spec_id }),
  endEngagement: (spec_id: SpecId) => call<EngagementEnd>("end_engagement", { spec_id }),
  /** Exports the spec's whole record into a new folder inside `parent`. */
  exportSpec: (spec_id: SpecId, parent: string) => call<ExportReport>("export_spec", { spec_id, parent }),
  account: () => call<AccountView>("account"),
  firstRunInvite: () => call<FirstRunInvite | null>("first_run_invite"),
  joinWorkspace: (input: JoinInput) => call<AccountView>("join_workspace", { input }),
  signIn: (input: SignInInput) => call<AccountView>("sign_in", { input }),
  signOut: () => call<AccountView>("sign_out"),
  syncNow: () => call<SyncState>("sync_now"),
  syncState: () => call<SyncState>("sync_state"),
  attention: () => call<AttentionView[]>("attention"),
  retryAttention: (mutation_id: number) => call<number>("retry_attention", { mutation_id }),
  discardAttention: (mutation_id: number) => call<null>("discard_attention", { mutation_id }),
  editAttention: (mutation_id: number, text: string) => call<number>("edit_attention", { mutation_id, text }),
  changeServer: (server_url: string) => call<AccountView>("change_server", { server_url }),
  exportAttention: (path: string) => call<number>("export_attention", { path }),
  downloadLimit: () => call<number>("download_limit"),
  setDownloadLimit: (bytes: number) => call<null>("set_download_limit", { bytes }),
  diffDefault: (spec_id: SpecId) => call<DefaultDiff | null>("diff_default", { spec_id }),
  diffSummary: (pair: DiffPair) => call<DiffSummary>("diff_summary", { pair }),
  diffFile: (pair: DiffPair, file: number, layout: DiffLayout, expanded: GapExpansion[]) =>
    call<FileView>("diff_file", { pair, file, layout, expanded }),
  diffRows: (pair: DiffPair, file: number, layout: DiffLayout, expanded: GapExpansion[], start: number, count: number) =>
    call<DiffRow[]>("diff_rows", { pair, file, layout, expanded, start, count }),
  /** One side's UTF-8 text as bytes; empty when binary or absent. */
  diffFileText: async (pair: DiffPair, file: number, side: FileSide): Promise<ArrayBuffer> => {
    const raw = await call<ArrayBuffer | Uint8Array | number[]>("diff_file_text", { pair, file, side });
    // Raw bytes arrive as an ArrayBuffer over the custom protocol, as an array of numbers
    // when the IPC falls back to postMessage: the worker is handed a transferable buffer either way.
    return raw instanceof ArrayBuffer ? raw : new Uint8Array(raw).buffer;
  },
  /** Downloads a revision's files now (the command belongs to the sync side of the app). */
  fetchRevisionFiles: (spec_id: SpecId, number: number) => call<unknown>("fetch_revision_files", { spec_id, number }),
};

/**
 * Calls `handler` after every change to the local store. Returns a synchronous disposer
 * (for `$effect` cleanups); unsubscribing never throws, even while the window goes away.
 */
export function onStoreChanged(handler: (change: StoreChanged) => void): () => void {
  return subscribe<StoreChanged>("store-changed", handler);
}

/**
 * Reloads a view after changes to the local store (those `relevant` lets through): changes
 * during a reload cost one reload more, and a reload waits until the store has been quiet for
 * SETTLE_MS (`coalesced`), so a burst (a sync round, fast replies) re-renders once at its end
 * rather than between the person's actions. Returns a synchronous disposer.
 */
export function reloadOnStoreChange(reload: () => Promise<unknown>, relevant: (change: StoreChanged) => boolean = () => true): () => void {
  const run = coalesced(reload, SETTLE_MS);
  return onStoreChanged((c) => {
    if (relevant(c)) void run();
  });
}

/** Calls `handler` after every check for desktop notices: what was shown and what waits. */
export function onNotices(handler: (notices: NoticesShown) => void): () => void {
  return subscribe<NoticesShown>("notices", handler);
}

/** Calls `handler` with the sync state after every sync round and sign-in change. */
export function onSyncState(handler: (state: SyncState) => void): () => void {
  return subscribe<SyncState>("sync-state", handler);
}

/** Calls `handler` as a delivered folder's files are stored. */
export function onDeliverProgress(handler: (progress: DeliverProgress) => void): () => void {
  return subscribe<DeliverProgress>("deliver-progress", handler);
}

/** Calls `handler` with the progress of a running sync round. */
export function onSyncProgress(handler: (progress: SyncProgress) => void): () => void {
  return subscribe<SyncProgress>("sync-progress", handler);
}

/**
 * Opens an http(s) or mailto address in the system browser (the opener plugin; its permission
 * allows only those schemes). Callers show the address to the person first.
 */
export async function openInBrowser(url: string): Promise<void> {
  await openUrl(url);
}

/** Calls `handler` with the address whenever the app refused to navigate its window away. */
export function onNavigationRefused(handler: (url: string) => void): () => void {
  return subscribe<string>("navigation-refused", handler);
}

function subscribe<T>(event: string, handler: (payload: T) => void): () => void {
  let disposed = false;
  let unlisten: UnlistenFn | null = null;
  const safe = (f: UnlistenFn) => {
    try {
      f();
    } catch {
      // the event system is already gone
    }
  };
  listen<T>(event, (e) => handler(e.payload)).then(
    (f) => (disposed ? safe(f) : (unlisten = f)),
    () => {},
  );
  return () => {
    disposed = true;
    if (unlisten) safe(unlisten);
  };
}

/** Asks for a folder with the system dialog; `null` when cancelled. */
export async function pickFolder(title: string): Promise<string | null> {
  const picked = await open({ directory: true, multiple: false, title });
  return typeof picked === "string" ? picked : null;
}

/** Asks where to save a file with the system dialog; `null` when cancelled. */
export async function pickSaveFile(title: string, defaultPath: string): Promise<string | null> {
  const picked = await save({ title, defaultPath, filters: [{ name: "JSON", extensions: ["json"] }] });
  return typeof picked === "string" ? picked : null;
}
