"""Scalar special functions the generated kernels call (numba, compiled lazily, cached on disk):
adjit's own implementations of Cephes' algorithms (the ones SciPy uses, so values agree with
`scipy.special` to a few ulp): digamma (with Boost's rational form on [1, 2]), the Hurwitz zeta
function for polygamma, ndtr / log_ndtr / ndtri, erfinv (refined by Newton steps on erf/erfc),
the modified Bessel functions I0, I1 and their exponentially scaled forms (as bessel_i0 ...:
the generated kernels name their loop indices i0, i1, ...).

`kernels/scalar.py` re-exports them, so `kernels.header()` finds them as it finds its own. They
are compiled with NumPy's error model (a division by zero gives inf or NaN, as NumPy, instead
of raising) and not inlined (they are long). Arguments may be float32: the arithmetic is
float64 inside, rounded on the store as NumPy's float32 loops do.
"""
import math

import numpy as np
from numba import njit

_jit = njit(cache=True, error_model="numpy")

EULER = 0.5772156649015329
SQRT1_2 = 0.7071067811865476
SQRT2PI = 2.5066282746310002   # sqrt(2 pi)
LOG_SQRT2PI = 0.9189385332046728
MACHEP = 1.1102230246251565e-16

# Chebyshev coefficients (Cephes i0.c, i1.c): exp(-x) I(x) on [0, 8] (A) and
# exp(-x) sqrt(x) I(x) on [8, inf) in 8/x (B)
I0A = np.array([-4.4153416464793395e-18, 3.3307945188222384e-17, -2.431279846547955e-16,
    1.715391285555133e-15, -1.1685332877993451e-14, 7.676185498604936e-14, -4.856446783111929e-13,
    2.95505266312964e-12, -1.726826291441556e-11, 9.675809035373237e-11, -5.189795601635263e-10,
    2.6598237246823866e-09, -1.300025009986248e-08, 6.046995022541919e-08, -2.670793853940612e-07,
    1.1173875391201037e-06, -4.4167383584587505e-06, 1.6448448070728896e-05,
    -5.754195010082104e-05, 0.00018850288509584165, -0.0005763755745385824, 0.0016394756169413357,
    -0.004324309995050576, 0.010546460394594998, -0.02373741480589947, 0.04930528423967071,
    -0.09490109704804764, 0.17162090152220877, -0.3046826723431984, 0.6767952744094761])
I0B = np.array([-7.233180487874754e-18, -4.830504485944182e-18, 4.46562142029676e-17,
    3.461222867697461e-17, -2.8276239805165836e-16, -3.425485619677219e-16, 1.7725601330565263e-15,
    3.8116806693526224e-15, -9.554846698828307e-15, -4.150569347287222e-14, 1.54008621752141e-14,
    3.8527783827421426e-13, 7.180124451383666e-13, -1.7941785315068062e-12,
    -1.3215811840447713e-11, -3.1499165279632416e-11, 1.1889147107846439e-11, 4.94060238822497e-10,
    3.3962320257083865e-09, 2.266668990498178e-08, 2.0489185894690638e-07, 2.8913705208347567e-06,
    6.889758346916825e-05, 0.0033691164782556943, 0.8044904110141088])
I1A = np.array([2.7779141127610464e-18, -2.111421214358166e-17, 1.5536319577362005e-16,
    -1.1055969477353862e-15, 7.600684294735408e-15, -5.042185504727912e-14, 3.223793365945575e-13,
    -1.9839743977649436e-12, 1.1736186298890901e-11, -6.663489723502027e-11, 3.625590281552117e-10,
    -1.8872497517228294e-09, 9.381537386495773e-09, -4.445059128796328e-08, 2.0032947535521353e-07,
    -8.568720264695455e-07, 3.4702513081376785e-06, -1.3273163656039436e-05, 4.781565107550054e-05,
    -0.00016176081582589674, 0.0005122859561685758, -0.0015135724506312532, 0.004156422944312888,
    -0.010564084894626197, 0.024726449030626516, -0.05294598120809499, 0.1026436586898471,
    -0.17641651835783406, 0.25258718644363365])
I1B = np.array([7.517296310842105e-18, 4.414348323071708e-18, -4.6503053684893586e-17,
    -3.209525921993424e-17, 2.96262899764595e-16, 3.3082023109209285e-16, -1.8803547755107825e-15,
    -3.8144030724370075e-15, 1.0420276984128802e-14, 4.272440016711951e-14,
    -2.1015418427726643e-14, -4.0835511110921974e-13, -7.198551776245908e-13,
    2.0356285441470896e-12, 1.4125807436613782e-11, 3.2526035830154884e-11,
    -1.8974958123505413e-11, -5.589743462196584e-10, -3.835380385964237e-09,
    -2.6314688468895196e-08, -2.512236237870209e-07, -3.882564808877691e-06,
    -0.00011058893876262371, -0.009761097491361469, 0.7785762350182801])
NDTRI_P0 = np.array([-59.96335010141079, 98.00107541859997, -56.67628574690703, 13.931260938727968,
    -1.2391658386738125])
NDTRI_Q0 = np.array([1.9544885833814176, 4.676279128988815, 86.36024213908905, -225.46268785411937,
    200.26021238006066, -82.03722561683334, 15.90562251262117, -1.1833162112133])
NDTRI_P1 = np.array([4.0554489230596245, 31.525109459989388, 57.16281922464213, 44.08050738932008,
    14.684956192885803, 2.1866330685079025, -0.1402560791713545, -0.03504246268278482,
    -0.0008574567851546854])
NDTRI_Q1 = np.array([15.779988325646675, 45.39076351288792, 41.3172038254672, 15.04253856929075,
    2.504649462083094, -0.14218292285478779, -0.03808064076915783, -0.0009332594808954574])
NDTRI_P2 = np.array([3.2377489177694603, 6.915228890689842, 3.9388102529247444, 1.3330346081580755,
    0.20148538954917908, 0.012371663481782003, 0.00030158155350823543, 2.6580697468673755e-06,
    6.239745391849833e-09])
NDTRI_Q2 = np.array([6.02427039364742, 3.6798356385616087, 1.3770209948908132, 0.21623699359449663,
    0.013420400608854318, 0.00032801446468212774, 2.8924786474538068e-06, 6.790194080099813e-09])

# digamma: the asymptotic series' Bernoulli terms (Cephes psi.c), Boost's rational
# approximation on [1, 2] around the positive root, and the smallest negative root (SciPy
# evaluates a Taylor series in zeta values there, where the reflection formula cancels)
PSI_A = np.array([8.33333333333333333333E-2, -2.10927960927960927961E-2, 7.57575757575757575758E-3,
                  -4.16666666666666666667E-3, 3.96825396825396825397E-3,
                  -8.33333333333333333333E-3, 8.33333333333333333333E-2])
PSI_P = np.array([-0.0020713321167745952, -0.045251321448739056, -0.28919126444774784,
                  -0.65031853770896507, -0.32555031186804491, 0.25479851061131551])
PSI_Q = np.array([-0.55789841321675513e-6, 0.0021284987017821144, 0.054151797245674225,
                  0.43593529692665969, 1.4606242909763515, 2.0767117023730469, 1.0])
PSI_Y = 0.99558162689208984375                     # a float32 constant in Boost
PSI_ROOT1 = 1569415565.0 / 1073741824.0            # the positive root in three pieces
PSI_ROOT2 = (381566830.0 / 1073741824.0) / 1073741824.0
PSI_ROOT3 = 0.9016312093258695918615325266959189453125e-19
NEG_ROOT = -0.5040830082644554092582693045
NEG_ROOT_VALUE = 7.2897639029768949e-17
# Euler-Maclaurin coefficients of the Hurwitz zeta function: (2k)! / B_2k (Cephes zeta.c)
ZETA_A = np.array([12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9,
                   7.47242496e10, -2.950130727918164224e12, 1.1646782814350067249e14,
                   -4.5979787224074726105e15, 1.8152105401943546773e17,
                   -7.1661652561756670113e18])


@_jit
def polevl(x, coef):
    ans = coef[0]
    for i in range(1, coef.shape[0]):
        ans = ans * x + coef[i]
    return ans


@_jit
def p1evl(x, coef):
    # polevl with an implied leading coefficient 1
    ans = x + coef[0]
    for i in range(1, coef.shape[0]):
        ans = ans * x + coef[i]
    return ans


@_jit
def chbevl(x, coef):
    b0 = coef[0]
    b1 = 0.0
    b2 = 0.0
    for i in range(1, coef.shape[0]):
        b2 = b1
        b1 = b0
        b0 = x * b1 - b2 + coef[i]
    return 0.5 * (b0 - b2)


@_jit
def zeta(s, q):
    """Hurwitz zeta(s, q) = sum_k (k + q)^-s for s > 1 (Euler-Maclaurin, as Cephes)."""
    if s == 1.0:
        return math.inf
    if s < 1.0:
        return math.nan
    if q <= 0.0:
        if q == np.floor(q):
            return math.inf
        if s != np.floor(s):
            return math.nan    # q^-s is not real
    total = q ** -s
    a = q
    b = 0.0
    i = 0
    while i < 9 or a <= 9.0:
        i += 1
        a += 1.0
        b = a ** -s
        total += b
        if abs(b / total) < MACHEP:
            return total
    w = a
    total += b * w / (s - 1.0)
    total -= 0.5 * b
    fac = 1.0
    k = 0.0
    for j in range(12):
        fac *= s + k
        b /= w
        t = fac * b / ZETA_A[j]
        total += t
        if abs(t / total) < MACHEP:
            break
        k += 1.0
        fac *= s + k
        b /= w
        k += 1.0
    return total


@_jit
def _psi(x):
    # Cephes psi: reflection for x < 0, the harmonic numbers at small integers, the recurrence
    # into [1, 2] (Boost's rational form) or up to the asymptotic series
    y = 0.0
    if x != x or x == math.inf:
        return x
    if x == -math.inf:
        return math.nan
    if x == 0.0:
        return -math.copysign(math.inf, x)
    if x < 0.0:
        r = x - np.trunc(x)
        if r == 0.0:
            return math.nan
        y = -math.pi / math.tan(math.pi * r)
        x = 1.0 - x
    if x <= 10.0 and x == np.floor(x):
        for i in range(1, int(x)):
            y += 1.0 / i
        return y - EULER
    if x < 1.0:
        y -= 1.0 / x
        x += 1.0
    elif x < 10.0:
        while x > 2.0:
            x -= 1.0
            y += 1.0 / x
    if 1.0 <= x <= 2.0:
        g = x - PSI_ROOT1
        g -= PSI_ROOT2
        g -= PSI_ROOT3
        r = polevl(x - 1.0, PSI_P) / polevl(x - 1.0, PSI_Q)
        return y + g * PSI_Y + g * r
    z = 1.0 / (x * x) if x < 1.0e17 else 0.0
    return y + math.log(x) - 0.5 / x - z * polevl(z, PSI_A)


@_jit
def digamma(x):
    x = float(x)
    if abs(x - NEG_ROOT) < 0.3:
        # Taylor series about the negative root: psi^(n)(r) / n! = (-1)^(n+1) zeta(n+1, r)
        res = NEG_ROOT_VALUE
        coeff = -1.0
        d = x - NEG_ROOT
        for n in range(1, 100):
            coeff *= -d
            term = coeff * zeta(n + 1.0, NEG_ROOT)
            res += term
            if abs(term) < MACHEP * abs(res):
                break
        return res
    return _psi(x)


@_jit
def polygamma(n, x):
    """psi^(n)(x): digamma for n == 0, else (-1)^(n+1) n! zeta(n + 1, x)."""
    k = int(n)
    if k == 0:
        return digamma(x)
    if k < 0:
        return math.nan
    sign = 1.0 if k % 2 == 1 else -1.0
    return sign * math.gamma(k + 1.0) * zeta(k + 1.0, float(x))


@_jit
def ndtr(x):
    t = x * SQRT1_2
    z = abs(t)
    if z < SQRT1_2:
        return 0.5 + 0.5 * math.erf(t)
    y = 0.5 * math.erfc(z)
    return 1.0 - y if t > 0 else y


@_jit
def log_ndtr(x):
    x = float(x)
    if x > -1.0:
        return math.log1p(-0.5 * math.erfc(x * SQRT1_2))
    if x > -20.0:
        return math.log(0.5 * math.erfc(-x * SQRT1_2))
    # far in the left tail erfc underflows: log of its asymptotic series
    # ndtr(x) ~ pdf(x) / -x * (1 - 1/x^2 + 3/x^4 - 15/x^6 + ...)
    r = 1.0 / (x * x)
    term = 1.0
    s = 1.0
    for k in range(1, 15):
        term *= -(2.0 * k - 1.0) * r
        s += term
    return -0.5 * x * x - math.log(-x) - LOG_SQRT2PI + math.log(s)


@_jit
def ndtri(p):
    """The inverse of ndtr (Cephes ndtri)."""
    p = float(p)
    if p != p or p < 0.0 or p > 1.0:
        return math.nan
    if p == 0.0:
        return -math.inf
    if p == 1.0:
        return math.inf
    upper = True
    y = p
    if y > 1.0 - 0.1353352832366127:   # 1 - exp(-2)
        y = 1.0 - y
        upper = False
    if y > 0.1353352832366127:
        y = y - 0.5
        y2 = y * y
        x = y + y * (y2 * polevl(y2, NDTRI_P0) / p1evl(y2, NDTRI_Q0))
        return x * SQRT2PI
    x = math.sqrt(-2.0 * math.log(y))
    x0 = x - math.log(x) / x
    z = 1.0 / x
    if x < 8.0:   # y > exp(-32)
        x1 = z * polevl(z, NDTRI_P1) / p1evl(z, NDTRI_Q1)
    else:
        x1 = z * polevl(z, NDTRI_P2) / p1evl(z, NDTRI_Q2)
    x = x0 - x1
    return -x if upper else x


@_jit
def erfinv(y):
    y = float(y)
    if y != y or y < -1.0 or y > 1.0:
        return math.nan
    if y == 1.0 or y == -1.0:
        return math.copysign(math.inf, y)
    a = abs(y)
    if a < 1e-3:
        # erfinv(a) = sqrt(pi)/2 (a + pi/12 a^3 + 7 pi^2/480 a^5 + ...): exact to rounding here
        a2 = a * a
        x = 0.886226925452758 * a * (1.0 + a2 * (0.2617993877991494 + a2 * 0.14393173084921979))
        return math.copysign(x, y)
    # ndtri's value, then Newton steps on erf (erfc near 1, where 1 - a is exact and erfc
    # keeps its relative accuracy) make it exact to rounding
    if a <= 0.5:
        x = ndtri(0.5 + 0.5 * a) * SQRT1_2
        for _ in range(2):
            x -= (math.erf(x) - a) / (1.1283791670955126 * math.exp(-x * x))
    else:
        c = 1.0 - a
        x = -ndtri(0.5 * c) * SQRT1_2
        for _ in range(2):
            x += (math.erfc(x) - c) / (1.1283791670955126 * math.exp(-x * x))
    return math.copysign(x, y)


@_jit
def logit(p):
    # log(p / (1 - p)) loses precision near p = 1/2, where log1p of the offset does not
    if p < 0.3 or p > 0.65:
        return math.log(p / (1.0 - p))
    s = 2.0 * (p - 0.5)
    return math.log1p(s) - math.log1p(-s)


@_jit
def xlogy(a, b):
    if a == 0.0 and b == b:
        return 0.0
    return a * math.log(b)


@_jit
def xlog1py(a, b):
    if a == 0.0 and b == b:
        return 0.0
    return a * math.log1p(b)


@_jit
def bessel_i0e(x):
    z = abs(float(x))
    if z <= 8.0:
        return chbevl(0.5 * z - 2.0, I0A)
    return chbevl(32.0 / z - 2.0, I0B) / math.sqrt(z)


@_jit
def bessel_i0(x):
    return math.exp(abs(float(x))) * bessel_i0e(x)


@_jit
def bessel_i1e(x):
    x = float(x)
    z = abs(x)
    if z <= 8.0:
        r = chbevl(0.5 * z - 2.0, I1A) * z
    else:
        r = chbevl(32.0 / z - 2.0, I1B) / math.sqrt(z)
    return -r if x < 0.0 else r


@_jit
def bessel_i1(x):
    return math.exp(abs(float(x))) * bessel_i1e(x)


LBETA_ASYMP_FACTOR = 1e6
MAXGAM = 171.62437695630272


@_jit
def _lbeta(a, b):
    # Cephes lbeta for a, b not non-positive integers: |a| >= |b| after the swap
    if abs(a) < abs(b):
        a, b = b, a
    if abs(a) > LBETA_ASYMP_FACTOR * abs(b) and a > LBETA_ASYMP_FACTOR:
        # lgamma(a + b) - lgamma(a) would cancel: its expansion in 1/a
        return (math.lgamma(b) - b * math.log(a) + b * (1.0 - b) / (2.0 * a)
                + b * (1.0 - b) * (1.0 - 2.0 * b) / (12.0 * a * a)
                - b * b * (1.0 - b) * (1.0 - b) / (12.0 * a * a * a))
    y = a + b
    if abs(y) > MAXGAM or abs(a) > MAXGAM or abs(b) > MAXGAM:
        return math.lgamma(a) + (math.lgamma(b) - math.lgamma(y))
    gy = math.gamma(y)
    ga = math.gamma(a)
    gb = math.gamma(b)
    if gy == 0.0:
        return math.inf
    if abs(abs(ga) - abs(gy)) > abs(abs(gb) - abs(gy)):
        r = gb / gy * ga
    else:
        r = ga / gy * gb
    return math.log(abs(r))


@_jit
def betaln(a, b):
    """log|B(a, b)| (Cephes lbeta, as scipy.special.betaln)."""
    a = float(a)
    b = float(b)
    if a != a or b != b:
        return math.nan
    # B(-n, b) with b an integer and 1 + n - b > 0 is the limit B(1 + n - b, b) up to sign
    if a <= 0.0 and a == np.floor(a):
        if b == np.floor(b) and 1.0 - a - b > 0.0:
            return _lbeta(1.0 - a - b, b)
        return math.inf
    if b <= 0.0 and b == np.floor(b):
        if a == np.floor(a) and 1.0 - b - a > 0.0:
            return _lbeta(1.0 - b - a, a)
        return math.inf
    return _lbeta(a, b)
