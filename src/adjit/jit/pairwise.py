"""NumPy's pairwise summation in generated kernels (a mixin of the code generator,
`codegen.Gen`): compiled sums add in NumPy's order, so they equal eager ones bit for bit."""
import numpy as np

from .exprs import iadd


class PairwiseSums:
    def elem_size(self, elem):
        """Lines of code of one element elem(j) (emitted and taken back)."""
        mark, saved = len(self.lines), self.scope()
        elem(self.new_index())
        size = len(self.lines) - mark
        del self.lines[mark:]
        self.memo = saved
        return size

    def pairwise_in_registers(self, n, elem):
        """Whether pairwise_sum(n, elem) is one block with register accumulators: no scratch
        arrays, so the sums of a parallel loop's iterations are independent."""
        return n <= 128 and self.elem_size(elem) <= 24

    def pairwise_sum(self, res, n, elem, square=False, in_registers=None, local=False):
        """res = the sum of elem(j), j < n, added in NumPy's order (pairwise: blocks of at
        most 128 summed with 8 interleaved accumulators, blocks combined as a binary tree), so
        compiled sums equal eager ones bit for bit, and the 8 chains pipeline. `in_registers`:
        one block (n <= 128) kept in registers whatever its body's size (pairwise_in_registers
        decided so for a parallel loop). `local`: inside a parallel loop, the scratch is
        allocated here (per iteration) instead of the kernel's shared arrays."""
        plan = []

        def walk(s, m):
            if m <= 128:
                plan.append((s, m))
                return
            m2 = m // 2
            m2 -= m2 % 8
            walk(s, m2)
            walk(s + m2, m - m2)
            plan.append((0, 0))    # combine the top two partial sums
        walk(0, n)

        def sq(t):
            return f"{t} * {t}" if square else t
        if len(plan) == 1:
            # one block (n <= 128): summed in place, no plan table, no stack of partial sums
            # (its bounds are plain literals, which a shape-generic template can take)
            L8 = n - n % 8
            if local and not in_registers and self.elem_size(elem) > 24:
                self.emit("_pwrl = empty(8, np.float64)")
            self.block_sum(res, "0", str(L8), str(n), elem, sq, registers=in_registers,
                           scratch="_pwrl" if local else "_pwr")
            return
        if local:
            self.emit("_pwsl = empty(64, np.float64)")
            if self.elem_size(elem) > 24:
                self.emit("_pwrl = empty(8, np.float64)")
        else:
            self._pw_used = True
        stack, rsc = ("_pwsl", "_pwrl") if local else ("_pws", "_pwr")
        table = self.index_const(np.array(plan, dtype=np.int64))
        q, sp, st, ln, L8 = (self.new_index() for _ in range(5))
        self.emit(f"{sp} = 0")
        self.emit(f"for {q} in range({len(plan)}):")
        self.ind += 1
        self.emit(f"{st} = {table}[{q}, 0]")
        self.emit(f"{ln} = {table}[{q}, 1]")
        self.emit(f"if {ln} == 0:")
        self.emit(f"    {sp} -= 1")
        self.emit(f"    {stack}[{sp} - 1] = {stack}[{sp} - 1] + {stack}[{sp}]")
        self.emit("else:")
        self.ind += 1
        self.emit(f"{L8} = {st} + {ln} - {ln} % 8")
        self.block_sum(res, st, L8, f"{st} + {ln}", elem, sq, scratch=rsc)
        self.emit(f"{stack}[{sp}] = {res}")
        self.emit(f"{sp} += 1")
        self.ind -= 2
        self.emit(f"{res} = {stack}[0]")

    def block_sum(self, res, st, L8, end, elem, sq, registers=None, scratch="_pwr"):
        """res = NumPy's sum of one block elem(st) ... elem(end - 1): 8 interleaved
        accumulators up to L8, then the rest one by one; in registers for small bodies (or
        when `registers`: a parallel loop's iterations must not share the _pwr scratch)."""
        j = self.new_index()
        # size of one element's code: small bodies are unrolled 8 times (register accumulators)
        mark, saved = len(self.lines), self.scope()
        elem(j)
        size = len(self.lines) - mark
        del self.lines[mark:]
        self.memo = saved
        if size <= 24 or registers:
            r = [f"{res}_{k}" for k in range(8)]
            for k in range(8):
                self.emit(f"{r[k]} = 0.0")
            self.emit(f"for {j} in range({st}, {L8}, 8):")
            self.ind += 1
            for k in range(8):
                saved = self.scope()
                t = elem(iadd(j, k))
                self.emit(f"{r[k]} += {sq(t)}")
                self.memo = saved
            self.ind -= 1
            self.emit(f"{res} = (({r[0]} + {r[1]}) + ({r[2]} + {r[3]})) + "
                      f"(({r[4]} + {r[5]}) + ({r[6]} + {r[7]}))")
        else:
            if scratch == "_pwr":
                self._pw_used = True
            w = scratch
            self.emit(f"{w}[:] = 0.0")
            saved = self.scope()
            self.emit(f"for {j} in range({st}, {L8}):")
            self.ind += 1
            t = elem(j)
            self.emit(f"{w}[({j} - {st}) & 7] += {sq(t)}")
            self.ind -= 1
            self.memo = saved
            self.emit(f"{res} = (({w}[0] + {w}[1]) + ({w}[2] + {w}[3])) + "
                      f"(({w}[4] + {w}[5]) + ({w}[6] + {w}[7]))")
        saved = self.scope()
        self.emit(f"for {j} in range({L8}, {end}):")
        self.ind += 1
        t = elem(j)
        self.emit(f"{res} += {sq(t)}")
        self.ind -= 1
        self.memo = saved
