// A file-like object (what an <input type=file> gives seal.js: name, size, stream()) whose
// bytes are made on demand, 1 MiB of "A" at a time, so that a 200 MB envelope never exists
// whole in the test's memory. `onPull(n, pass)` hears of each piece as the sealer reads it,
// and of which reading it belongs to (1 for the first stream(), 2 for the second...).
export const PIECE = 1024 * 1024;

export function onDemandFile(name, size, onPull = () => {}) {
  const piece = new Uint8Array(PIECE).fill(0x41);
  let passes = 0;
  return {
    name,
    size,
    stream() {
      const pass = ++passes;
      let left = size;
      return new ReadableStream({
        pull(c) {
          if (left === 0) return c.close();
          const n = Math.min(left, piece.length);
          left -= n;
          onPull(n, pass);
          c.enqueue(piece.slice(0, n));
        },
      });
    },
  };
}
