// Terminal control sequences (colours, ESC[2K line clears from compose's progress output) have no
// place in a log tail shown to the user or written to CI logs.
// CSI … final byte, OSC … BEL/ST, and single-character escapes.
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]|\r(?!\n)/g;

export const stripAnsi = (text: string) => text.replace(ANSI, '');
