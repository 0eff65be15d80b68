/** IPC channel names shared by main and preload. Prefixed so no other library's channel can collide. */
export const IPC = {
  call: 'distillery:call',
  event: 'distillery:event',
  pickFile: 'distillery:pick-file',
  pickFolder: 'distillery:pick-folder',
} as const;
