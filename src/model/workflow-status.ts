/** The execution statuses a workflow list can filter by, as the CLI and the REST API spell them. */
export const WORKFLOW_STATUSES = ['running', 'completed', 'failed', 'canceled', 'terminated', 'timed-out', 'continued-as-new'] as const;
export type WorkflowStatusFilter = (typeof WORKFLOW_STATUSES)[number];
