import fs from 'node:fs';

/** An OpenAI-chat JSONL file of `n` varied examples (about 500 bytes each, as the 1M-example / 500 MB target). */
export function writeChatFile(file: string, n: number): void {
  const fd = fs.openSync(file, 'w');
  const topics = ['printer', 'invoice', 'login', 'refund', 'shipping', 'warranty', 'battery', 'screen', 'router', 'subscription'];
  let buf: string[] = [];
  for (let i = 0; i < n; i++) {
    const t = topics[i % topics.length]!;
    buf.push(
      JSON.stringify({
        messages: [
          { role: 'system', content: 'You are a concise, friendly support agent for a hardware company.' },
          { role: 'user', content: `Ticket ${i}: my ${t} stopped working after the update on day ${i % 365}. What should I do? I already restarted it twice.` },
          {
            role: 'assistant',
            content: `Sorry about the ${t}. Please hold the reset button for ten seconds, then reinstall update ${i % 97}. If it still fails, reply with the serial number and we will replace it under warranty.`,
          },
        ],
      }),
    );
    if (buf.length === 5000) {
      fs.writeSync(fd, buf.join('\n') + '\n');
      buf = [];
    }
  }
  if (buf.length) fs.writeSync(fd, buf.join('\n') + '\n');
  fs.closeSync(fd);
}

// `node --import tsx test/bench/gen-chat.ts FILE N`
if (process.argv[1]?.endsWith('gen-chat.ts')) writeChatFile(process.argv[2]!, Number(process.argv[3]));
