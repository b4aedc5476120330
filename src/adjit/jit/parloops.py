"""The parallel kernel of `ad.jit(ad.vmap(f))` on several threads (issue 14). A mixin of the
code generator (`codegen.Gen`); `Gen.parallel` is set only for the kernel of a vmap run on
more than one thread, so every other kernel is generated exactly as before.

What runs on threads is JAX's split, inside one numba kernel:
- a materialized pointwise / index-map value at the kernel's top level is a pure map (each
  element written once by its own iteration, reading only values computed before the loop),
  so its outermost loop becomes a `prange` when it is big enough to pay for a fork/join;
- a stacked product with the batch on its rows (one gemm in the serial kernel: `x @ W` of
  every example at once, batchmm.py) is written as a `prange` over the rows when the matrix
  it multiplies is small. A BLAS call there measured badly: OpenBLAS's own threads compete with
  numba's, and on this 2-core machine the serial kernel with them ran 0.7x as fast on two
  threads as on one; the explicit loops scale (1.9x) and for an 8x32 matrix are as fast as
  the gemm on one thread. Larger products keep BLAS (its threads are then the ones to use).
Reductions over an example's own axes are pure maps too (one accumulator per output element,
or the batch axis kept in the general accumulation loop: producers.py): their loops over the
batch are pranges (a pairwise sum of more than one block takes scratch of its own per
iteration: pairwise.py). Scans and library calls stay serial.
"""
import numpy as np

from .rowfuse import fuse_row_loops

PAR_MIN = 8192       # elements (multiplies for a product) worth a fork/join of the threads
SMALL_MAP = 256      # elements of a smaller map that still joins a run of parallel loops
LOOP_MM_MAX = 4096   # entries of a product's small matrix written as loops instead of BLAS
# only the loops written as prange run in parallel: no array-expression rewriting, no loop
# fusion (the generated loops are already fused where it pays)
NJIT_PARALLEL = ("parallel={'prange': True, 'fusion': False, 'comprehension': False, "
                 "'reduction': False, 'inplace_binop': False, 'setitem': False, "
                 "'numpy': False, 'stencil': False}")


class ParallelLoops:
    parallel = False     # set by ad.jit on the generator of a multi-threaded vmap kernel
    _par_map = False     # a pure map is being emitted: its top-level loops may be pranges
    _par_used = False    # some prange was emitted: the kernel is compiled with parallel=

    def loop_head(self, n, lo, hi):
        """The `for` line of loop variable n over [lo, hi)."""
        rng = f"range({hi})" if lo == 0 else f"range({lo}, {hi})"
        if self._par_map and self.ind == 1:
            self._par_used = True
            # a small map runs on threads only where it joins a run of loops (rowfuse.py)
            return f"for {n} in p{rng}:" + ("  # small" if self._par_map == "small" else "")
        return f"for {n} in {rng}:"

    def par_map(self, size):
        """Whether the map of a value of `size` elements, emitted now, runs on threads (then
        call end_par_map(True) after it)."""
        if self.parallel and self.ind == 1 and size >= SMALL_MAP:
            self._par_map = "big" if size >= PAR_MIN else "small"
            return True
        return False

    def end_par_map(self, was):
        if was:
            self._par_map = False

    def body_lines(self):
        """The kernel's lines; in a parallel kernel, runs of row-wise loops share one
        fork/join (rowfuse.py)."""
        if not self._par_used:
            return self.lines
        lines = fuse_row_loops(self.lines)
        self._par_used = any(" in prange(" in ln for ln in lines)
        return lines

    def njit_flags(self):
        """Extra njit options of the kernel."""
        return ", " + NJIT_PARALLEL if self._par_used else ""

    def loop_product(self, i, out, a, rows, k, w, wt, n, dtype):
        """out = a @ W on threads, one row per iteration: `a` a C array expression of shape
        (rows, k); W stored as `w` of shape (k, n), or (n, k) when `wt` (W is its transpose),
        or a vector (k,) when n is None; `out` of shape (rows, n) or (rows,). False (nothing
        emitted) when BLAS should do it."""
        if not self.parallel or self.ind != 1 or rows * k * (n or 1) < PAR_MIN or \
                k * (n or 1) > LOOP_MM_MAX:
            return False
        self._par_used = True
        zero = "0.0" if dtype == np.float64 else f"np.{np.dtype(dtype).name}(0)"
        pa, pw, po = f"_pa{i}", f"_pw{i}", f"_po{i}"
        r, j, q = self.new_index(), self.new_index(), self.new_index()
        self.emit(f"{pa} = {a}")
        self.emit(f"{pw} = {w}")
        self.emit(f"{po} = {out}")
        self.emit(f"for {r} in prange({rows}):")
        body = []
        if n is None:
            body += [f"acc{i} = {zero}",
                     f"for {q} in range({k}):",
                     f"    acc{i} += {pa}[{r}, {q}] * {pw}[{q}]",
                     f"{po}[{r}] = acc{i}"]
        elif not wt:   # the row of the result as k scaled rows of W (contiguous inner loop)
            body += [f"for {j} in range({n}):",
                     f"    {po}[{r}, {j}] = {zero}",
                     f"for {q} in range({k}):",
                     f"    s{i} = {pa}[{r}, {q}]",
                     f"    for {j} in range({n}):",
                     f"        {po}[{r}, {j}] += s{i} * {pw}[{q}, {j}]"]
        else:          # one dot product per entry (contiguous inner loop)
            body += [f"for {j} in range({n}):",
                     f"    acc{i} = {zero}",
                     f"    for {q} in range({k}):",
                     f"        acc{i} += {pa}[{r}, {q}] * {pw}[{j}, {q}]",
                     f"    {po}[{r}, {j}] = acc{i}"]
        for line in body:
            self.emit("    " + line)
        return True
