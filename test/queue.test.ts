import { describe, expect, it } from 'vitest';
import { DownloadQueue } from '../src/download/queue.js';
import { estimatedBytes } from '../src/download/save.js';
import { planItem } from '../src/media/plan.js';
import type { MediaItem } from '../src/types.js';

function saver(concurrency: number, signal = new AbortController().signal): DownloadQueue {
  return new DownloadQueue(concurrency, signal);
}

/** A task that records its start and finishes when the test lets it. */
function gate(log: string[], name: string) {
  let open = () => {};
  const done = new Promise<void>((resolve) => (open = resolve));
  return { task: async () => { log.push(name); await done; }, open };
}

describe('the download queue', () => {
  it('starts the largest waiting download whenever a slot frees, the first queued among equals', async () => {
    // A page's items are queued in one go, so even the first slot goes to the largest of them.
    const queue = saver(1);
    const log: string[] = [];
    const tasks = { a: gate(log, 'a'), b: gate(log, 'b'), c: gate(log, 'c'), d: gate(log, 'd') };
    queue.schedule(0, tasks.a.task);
    queue.schedule(5, tasks.b.task);
    queue.schedule(10, tasks.c.task);
    queue.schedule(5, tasks.d.task);
    for (const t of Object.values(tasks)) t.open();
    await queue.drain();
    expect(log).toEqual(['c', 'b', 'd', 'a']);
  });

  it('starts nothing more once interrupted, and lets the running transfer end', async () => {
    const controller = new AbortController();
    const queue = saver(1, controller.signal);
    const log: string[] = [];
    const first = gate(log, 'first');
    queue.schedule(0, first.task);
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(['first']);
    queue.schedule(9, gate(log, 'second').task);
    controller.abort();
    first.open();
    await queue.drain();
    expect(log).toEqual(['first']);
  });

  it('estimates a video by bit rate × duration, and a photo as unknown (0)', () => {
    const video: MediaItem = {
      media: {
        media_key: '7_1',
        type: 'video',
        duration_ms: 10_000,
        variants: [{ bit_rate: 2_000_000, content_type: 'video/mp4', url: 'https://video.twimg.com/v/1280x720/a.mp4' }],
      },
      tweet: { tweet_id: '1' },
      n: 1,
    };
    const photo: MediaItem = { media: { media_key: '3_2', type: 'photo', url: 'https://pbs.twimg.com/media/X.jpg' }, tweet: { tweet_id: '2' }, n: 1 };
    const options = { types: new Set(['photo', 'video', 'animated_gif'] as const), includeReposts: true, allowHosts: ['pbs.twimg.com', 'video.twimg.com'] };
    const videoPlan = planItem(video, options);
    const photoPlan = planItem(photo, options);
    if (videoPlan.kind !== 'download' || photoPlan.kind !== 'download') throw new Error('expected downloads');
    expect(estimatedBytes(videoPlan)).toBe(2_500_000);
    expect(estimatedBytes(photoPlan)).toBe(0);
  });
});
