#!/usr/bin/env bash
# The paper grid as a Slurm job array: 16 shards, one GPU each, then one merge job.
#
#   jobid=$(sbatch --parsable benchmarks/cluster/slurm_array.sh)
#   sbatch --dependency=afterok:$jobid --wrap "bench merge runs/paper-shard-* --out runs/paper"
#
# Every shard computes the same plan and runs a disjoint part of it (bench run --shard i/N); a shard
# that is killed or times out resumes where it stopped when the array task is resubmitted
# (`scontrol requeue` or sbatch --array=<i>). The generation cache (BENCH_CACHE_DIR) may be shared
# by all shards on a filesystem with working POSIX locks; otherwise give each shard its own.
#SBATCH --job-name=lowres-bench
#SBATCH --array=0-15
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=8
#SBATCH --mem=64G
#SBATCH --time=24:00:00
#SBATCH --output=logs/%x-%A_%a.log
set -euo pipefail
SHARDS=${SHARDS:-16}
cd "${SLURM_SUBMIT_DIR:-.}"
. .venv/bin/activate
export BENCH_CACHE_DIR=${BENCH_CACHE_DIR:-$PWD/.cache/lowres-bench}
bench run benchmarks/paper.toml --shard "${SLURM_ARRAY_TASK_ID}/${SHARDS}" \
  --out "runs/paper-shard-${SLURM_ARRAY_TASK_ID}" --no-progress
