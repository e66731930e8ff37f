/**
 * The workspace an interaction happened in: its `team.id`, as a slash command's `team_id` is, so that every entry
 * point keys the do-not-call list, the hourly limits, the history and the Home tab by the same workspace. A payload's
 * `user.team_id` is the user's home workspace, which in an Enterprise Grid organisation is often another one of the
 * organisation's workspaces (slackapi/bolt-js#1875); it is used only when `team` is null (an org-wide install, as
 * Bolt reads it), after the view's own `team_id`.
 */
export function workspaceOf(body: {
  team?: { id?: string } | null;
  user?: { team_id?: string } | null;
  view?: { team_id?: string } | null;
}): string | undefined {
  return body.team?.id || body.view?.team_id || body.user?.team_id || undefined;
}
