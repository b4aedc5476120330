"""The ADBench GMM objective (Gaussian mixture log-likelihood with a Wishart prior) and its
gradient written out by hand in numba + BLAS: the baseline of benchmarks/bench_gmm.py.

Parameters as in ADBench: alphas (k,), means (k, d), icf (k, d + d(d-1)/2) whose first d
columns are the logs of the diagonal of each component's inverse Cholesky factor Q and the rest
its strictly lower part, column by column. x (n, d) is data, gamma and m the prior's."""
import math

import numpy as np
from numba import njit
from scipy.special import gammaln


def ltri_index(d):
    """idx (d, d): Q's strictly lower entry (i, j) is icf_full[idx[i, j]] where
    icf_full = [0, icf[d:]] (entries above the diagonal read the 0)."""
    idx = np.zeros((d, d), np.int64)
    p = 1
    for j in range(d):
        for i in range(j + 1, d):
            idx[i, j] = p
            p += 1
    return idx


def constants(n, d, k, gamma, m):
    """The objective's terms that depend on no parameter."""
    nw = d + m + 1
    lmg = 0.25 * d * (d - 1) * math.log(math.pi) + \
        sum(gammaln(0.5 * nw + 0.5 * (1 - j)) for j in range(1, d + 1))
    c = nw * d * (math.log(gamma) - 0.5 * math.log(2)) - lmg
    return -n * d * 0.5 * math.log(2 * math.pi) - k * c


@njit(cache=True)
def _lower(icf, d):
    k = icf.shape[0]
    L = np.zeros((k, d, d))
    for c in range(k):
        p = d
        for j in range(d):
            for i in range(j + 1, d):
                L[c, i, j] = icf[c, p]
                p += 1
    return L


@njit(cache=True)
def gmm_grad(alphas, means, icf, x, gamma, m):
    """(objective without its constant, d/dalphas, d/dmeans, d/dicf)."""
    n, d = x.shape
    k = alphas.shape[0]
    L = _lower(icf, d)
    Qd = np.exp(icf[:, :d])
    inner = np.empty((k, n))
    Lx = np.empty((k, n, d))
    xc = np.empty((k, n, d))
    for c in range(k):
        sq = 0.0
        for j in range(d):
            sq += icf[c, j]
        for i in range(n):
            for j in range(d):
                xc[c, i, j] = x[i, j] - means[c, j]
        np.dot(xc[c], L[c].T, Lx[c])
        for i in range(n):
            s = 0.0
            for j in range(d):
                t = Lx[c, i, j] + Qd[c, j] * xc[c, i, j]
                Lx[c, i, j] = t
                s += t * t
            inner[c, i] = alphas[c] + sq - 0.5 * s
    # log-sum-exp over the components, per point; responsibilities w
    w = np.empty((k, n))
    total = 0.0
    for i in range(n):
        mx = inner[0, i]
        for c in range(1, k):
            mx = max(mx, inner[c, i])
        s = 0.0
        for c in range(k):
            e = math.exp(inner[c, i] - mx)
            w[c, i] = e
            s += e
        total += math.log(s) + mx
        for c in range(k):
            w[c, i] /= s
    am = alphas.max()
    sa = np.sum(np.exp(alphas - am))
    lsa = math.log(sa) + am
    ga = np.empty(k)
    gm = np.empty((k, d))
    gi = np.empty_like(icf)
    G = np.empty((n, d))
    prior = 0.0
    for c in range(k):
        wsum = 0.0
        for i in range(n):
            wsum += w[c, i]
        ga[c] = wsum - n * math.exp(alphas[c] - lsa)
        # G = d obj / d Lx[c] = -w * Lx; colsum(G) gives the means' gradient
        gq = np.zeros(d)
        gs = np.zeros(d)
        for i in range(n):
            wi = w[c, i]
            for j in range(d):
                g = -wi * Lx[c, i, j]
                G[i, j] = g
                gq[j] += g * xc[c, i, j]
                gs[j] += g
        dL = np.dot(G.T, xc[c])
        gxs = gs * Qd[c] + np.dot(gs, L[c])
        for j in range(d):
            gm[c, j] = -gxs[j]
        sq = 0.0
        for j in range(d):
            q = Qd[c, j]
            gi[c, j] = gq[j] * q + wsum + gamma * gamma * q * q - m
            prior += 0.5 * gamma * gamma * q * q - m * icf[c, j]
        p = d
        for j in range(d):
            for i in range(j + 1, d):
                v = icf[c, p]
                gi[c, p] = dL[i, j] + gamma * gamma * v
                prior += 0.5 * gamma * gamma * v * v
                p += 1
    return total - n * lsa + prior, ga, gm, gi
