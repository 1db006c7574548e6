"""Independent re-computations used to check the estimation module.

Written straight from the textbook formulas (Taylor linearisation of a ratio, R's
ultimate-cluster and multistage variance), with no svy, so agreement is evidence.
"""

import numpy as np
import polars as pl

from triangulum.testing import shared_path


def read_api(name: str) -> pl.DataFrame:
    return pl.read_csv(shared_path("fixtures", "survey", "samplics_svy", name), null_values="NA")


def read_fpc() -> pl.DataFrame:
    # GPL-3.0 file: read from ../shared only, never copied into the repository.
    return pl.read_csv(shared_path("fixtures", "survey", "xkdr_survey.jl", "fpc.csv"))


def linearised_variance(z, strata, psu, psu_population=None, ssu_population=None):
    """Variance of a total of ``z`` (per-row influence values).

    First stage: with-replacement PSU totals within strata, times (1 - n_h/N_h) when a
    PSU population is given. With an SSU population (rows are the SSUs), R's
    multistage term adds, per PSU, n_h/N_h times the within-PSU variance times
    (1 - m_i/M_i). Strata with one PSU add nothing (R's lonely.psu = "certainty").
    """
    z = np.asarray(z, dtype=float)
    variance = 0.0
    for stratum in np.unique(strata):
        in_stratum = strata == stratum
        labels = psu[in_stratum]
        units = np.unique(labels)
        n = len(units)
        totals = np.array([z[in_stratum][labels == u].sum() for u in units])
        fraction = 0.0 if psu_population is None else n / psu_population[in_stratum][0]
        if n > 1:
            variance += (1 - fraction) * n / (n - 1) * ((totals - totals.mean()) ** 2).sum()
        if ssu_population is None:
            continue
        for unit in units:
            rows = in_stratum & (psu == unit)
            within, m = z[rows], int(rows.sum())
            if m > 1:
                variance += (
                    fraction
                    * (1 - m / ssu_population[rows][0])
                    * m
                    / (m - 1)
                    * ((within - within.mean()) ** 2).sum()
                )
    return variance


def domain_mean_and_se(
    y, weights, in_domain, strata, psu, psu_population=None, ssu_population=None
):
    """Ratio estimator of a domain mean and its linearised standard error."""
    y = np.where(in_domain, y, 0.0)
    size = (weights * in_domain).sum()
    mean = (weights * in_domain * y).sum() / size
    z = weights * in_domain * (y - mean) / size
    return mean, np.sqrt(linearised_variance(z, strata, psu, psu_population, ssu_population))


def total_and_se(y, weights, strata, psu, psu_population=None, ssu_population=None):
    z = weights * y
    return z.sum(), np.sqrt(linearised_variance(z, strata, psu, psu_population, ssu_population))
