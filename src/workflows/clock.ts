/** Workflow time: the sandbox's clock, the time of the current workflow task (the same on replay). */
export const workflowNow = (): number => new Date().getTime();
