package pickle

// chunks is an append-only array stored in fixed-size chunks, so that
// growing it never copies (and never holds the old and new arrays at once):
// the memo of a large pickle grows by millions of entries.
type chunks[T any] struct {
	c [][]T
	n int
}

const chunkBits = 16

func (a *chunks[T]) len() int { return a.n }

func (a *chunks[T]) at(i int) T { return a.c[i>>chunkBits][i&(1<<chunkBits-1)] }

func (a *chunks[T]) set(i int, v T) { a.c[i>>chunkBits][i&(1<<chunkBits-1)] = v }

func (a *chunks[T]) push(v T) {
	if a.n>>chunkBits == len(a.c) {
		a.c = append(a.c, make([]T, 1<<chunkBits))
	}
	a.set(a.n, v)
	a.n++
}

func (a *chunks[T]) reset() { *a = chunks[T]{} }
