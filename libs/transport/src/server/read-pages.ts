/**
 * The paging loop of every history read of the engine (a resume's backlog, a hole, a live
 * catch-up): reads the page after `fromSeq` and hands it to `take`, which returns the seq to read
 * after next (or undefined to stop). It always reads at least once and stops after a short page
 * (the log has nothing more), or once the position reaches `targetSeq`. A full page that moves the
 * position nowhere is a broken history reader, not an empty log: it throws instead of spinning.
 */
export async function readPages<Page extends { readonly events: readonly unknown[] }>(
  fromSeq: number,
  targetSeq: number,
  pageSize: number,
  read: (afterSeq: number) => Promise<Page>,
  take: (page: Page) => number | undefined,
): Promise<void> {
  for (let after = fromSeq; ;) {
    const page = await read(after);
    const next = take(page);
    if (next === undefined || page.events.length < pageSize || next >= targetSeq) return;
    if (next <= after) {
      throw new Error(`history after seq ${after} does not start at ${after + 1}`);
    }
    after = next;
  }
}
