// The parts of the frame SDK we use, in one module so that the lazily loaded SDK chunk is
// tree-shaken down to them (a dynamic import of the package itself would keep all of it).
export { initializeB24Frame, MessageCommands } from '@bitrix24/b24jssdk';
export type { B24Frame } from '@bitrix24/b24jssdk';
