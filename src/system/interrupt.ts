// Ctrl-C as a value: a flow that follows something (a journal, a run) races its work against SIGINT and then says how it ended.

export interface Interruption {
  /** SIGINT has arrived. */
  readonly happened: boolean;
  /** Resolves when it arrives (never rejects). */
  readonly arrived: Promise<void>;
  /** Stops listening: SIGINT has its default meaning again. */
  dispose(): void;
}

/** Listens for SIGINT until disposed; while it listens, Ctrl-C no longer kills svcctl outright. */
export function watchInterrupt(): Interruption {
  let happened = false;
  let resolve: () => void = () => undefined;
  const arrived = new Promise<void>((done) => (resolve = done));
  const listener = () => {
    happened = true;
    resolve();
  };
  process.on('SIGINT', listener);
  return {
    get happened() {
      return happened;
    },
    arrived,
    dispose: () => void process.removeListener('SIGINT', listener),
  };
}
