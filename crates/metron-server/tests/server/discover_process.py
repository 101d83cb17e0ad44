"""Loads an XES event log with pm4py and discovers a process model from it (the inductive
miner), as a process analyst would. Prints what it found as JSON; fails on any error."""
import json
import sys

import pm4py

log = pm4py.read_xes(sys.argv[1], return_legacy_log_object=False)
net, initial, final = pm4py.discover_petri_net_inductive(log)
fitness = pm4py.fitness_token_based_replay(log, net, initial, final)
print(json.dumps({
    "cases": int(log["case:concept:name"].nunique()),
    "events": int(len(log)),
    "activities": sorted(log["concept:name"].unique().tolist()),
    "resources": sorted(log["org:resource"].unique().tolist()),
    "transitions": len([t for t in net.transitions if t.label is not None]),
    "fitness": fitness["log_fitness"],
}))
