/** Calls `fn` once the calls stop for `ms`; `cancel` drops a pending call. */
export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number): ((...args: A) => void) & { cancel: () => void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const call = (...args: A): void => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  return Object.assign(call, { cancel: () => clearTimeout(timer) });
}

/**
 * Keeps only the answer of the latest request: each `next()` returns a check that is true
 * while no newer request has started (search as you type answers out of order).
 */
export function latest(): { next: () => () => boolean } {
  let counter = 0;
  return {
    next: () => {
      const mine = ++counter;
      return () => mine === counter;
    },
  };
}
