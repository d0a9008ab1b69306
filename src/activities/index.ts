/** Every activity the worker registers. */
export { checkPrerequisites } from './prerequisites.js';
