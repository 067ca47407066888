"""Reducers are kernel-language objects (kernelkit.lang.reducers); the api modules import them from here."""

from kernelkit.lang.reducers import ALL, BAnd, BOr, LAnd, LOr, Max, MaxLoc, Min, MinLoc, Prod, Reducer, Sum, by_name

__all__ = ["ALL", "BAnd", "BOr", "LAnd", "LOr", "Max", "MaxLoc", "Min", "MinLoc", "Prod", "Reducer", "Sum", "by_name"]
