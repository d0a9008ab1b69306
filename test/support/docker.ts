/** Docker test gating: global-setup decides; a missing engine under CI has already failed the run. */
import { inject } from 'vitest';

export const dockerAvailable = inject('dockerAvailable');
