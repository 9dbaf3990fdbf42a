// Generated from schema/disagg-config.schema.json by scripts/gen-config-type.mjs: do not edit.
// The config type of the code (DisaggConfig in src/types.ts) is derived from this.

export type ASLURMTimeSuchAs040000HHMMSSOr1000000 = string;
export type ANumberOfMinutes = number;
export type ASpaceSeparatedListOfPositiveIntegersSuchAs1248 = string;
export type APositiveInteger = number;
/**
 * @minItems 1
 */
export type AListOfPositiveIntegers = number[];
export type ATaskNameSuchAsGsm8K = string;
export type TrueFalse = boolean;

/**
 * One disaggregated-serving test (perf, accuracy or stress), compatible with TensorRT-LLM's tests/integration/defs/perf/disagg/test_configs. Top-level keys starting with x- are free (e.g. to hold YAML anchors).
 */
export interface VitestDisaggTestConfig {
  /**
   * Test metadata read by the framework.
   */
  metadata: {
    /**
     * Model label used in logs and the CSV.
     */
    model_name?: string;
    /**
     * Model precision label.
     */
    precision?: string;
    /**
     * Model folder below $MODEL_DIR; <model_path> resolves to $MODEL_DIR/<model_dir_name>.
     */
    model_dir_name?: string;
    /**
     * GPU types (env GPU_TYPE) this config runs on; default GB200, GB300, H100, B200, B300.
     */
    supported_gpus?: string[];
    /**
     * SLURM batch script of the launcher.
     */
    script_file?: string;
    /**
     * Informational, e.g. 1k1k.
     */
    benchmark_type?: string;
    /**
     * Informational index.
     */
    config_index?: number;
    /**
     * Benchmark dataset below $DATASET_DIR; <dataset_file> resolves to $DATASET_DIR/<dataset_file>.
     */
    dataset_file?: string;
    /**
     * Accuracy thresholds (accuracy and stress tests).
     */
    accuracy?: {
      /**
       * Datasets to judge (required for accuracy and stress tests).
       */
      datasets?: AccuracyDataset[];
      metrics?: MetricsOverride;
    };
    metrics?: MetricsOverride;
  };
  /**
   * SLURM submission settings.
   */
  slurm?: {
    /**
     * SLURM batch script.
     */
    script_file?: string;
    /**
     * SLURM partition (<partition> → $SLURM_PARTITION).
     */
    partition?: string;
    /**
     * SLURM account (<account> → $SLURM_ACCOUNT).
     */
    account?: string;
    /**
     * SLURM --time limit.
     */
    job_time?: ASLURMTimeSuchAs040000HHMMSSOr1000000 | ANumberOfMinutes;
    /**
     * SLURM job name.
     */
    job_name?: string;
    /**
     * Extra sbatch arguments, space separated.
     */
    extra_args?: string;
    /**
     * Bind workers to NUMA nodes.
     */
    numa_bind?: boolean;
    /**
     * Add --segment=<total nodes>. Default true, as upstream submit.py; false for SLURM before 24.11 (no --segment there). Never added for the simulator.
     */
    set_segment?: boolean;
    /**
     * Let SLURM requeue the job after a node failure (--requeue). Default false: --no-requeue, so a job on a failed node ends as NODE_FAIL and its test fails with that reason.
     */
    requeue?: boolean;
  };
  /**
   * Benchmark client settings.
   */
  benchmark: {
    /**
     * Benchmark mode.
     */
    mode?: 'e2e' | 'gen_only' | 'gen_only_no_context' | 'ctx_only';
    /**
     * Use the NVIDIA SA benchmark client (not in gen_only mode).
     */
    use_nv_sa_benchmark?: boolean;
    /**
     * Rounds per concurrency.
     */
    multi_round?: number;
    /**
     * Shortest request as a share of input/output length, used by the SA client only (use_nv_sa_benchmark: true), where it must be above 0; upstream perf-sanity configs write 0.0 without the SA client.
     */
    benchmark_ratio?: number;
    /**
     * Stream tokens (must be true).
     */
    streaming?: boolean;
    /**
     * Concurrency levels to benchmark: "1 2 4", 12288 or [1, 2, 4].
     */
    concurrency_list?:
      ASpaceSeparatedListOfPositiveIntegersSuchAs1248 | APositiveInteger | AListOfPositiveIntegers;
    /**
     * Input sequence length (tokens).
     */
    input_length?: number;
    /**
     * Output sequence length (tokens).
     */
    output_length?: number;
    /**
     * Dataset file (<dataset_file> → $DATASET_DIR/<metadata.dataset_file>).
     */
    dataset_file?: string;
    /**
     * Run the benchmark client (default true).
     */
    enable_benchmark?: boolean;
    /**
     * Environment variables (name → value).
     */
    env_var?: {
      [k: string]: string | number | boolean;
    };
    slo?: SLO;
  };
  /**
   * Cluster shape.
   */
  hardware?: {
    /**
     * GPUs per node.
     */
    gpus_per_node?: number;
    /**
     * Number of context servers.
     */
    num_ctx_servers?: number;
    /**
     * Number of generation servers.
     */
    num_gen_servers?: number;
    /**
     * GPU types this config runs on (also read from metadata.supported_gpus).
     */
    supported_gpus?: string[];
    /**
     * Informational GPU type (old configs).
     */
    gpu_type?: string;
  };
  /**
   * Container and paths.
   */
  environment?: {
    /**
     * Container mounts src:dst,… (<container_mount> is assembled from WORK_DIR, SCRIPT_DIR, MODEL_DIR, OUTPUT_PATH, …).
     */
    container_mount?: string;
    /**
     * Container image (<container_image> → $CONTAINER_IMAGE).
     */
    container_image?: string;
    /**
     * Model path (<model_path> → $MODEL_DIR/<metadata.model_dir_name>).
     */
    model_path?: string;
    /**
     * TensorRT-LLM source checkout (<trtllm_repo> → $REPO_DIR).
     */
    trtllm_repo?: string;
    /**
     * TensorRT-LLM wheel (<trtllm_wheel_path> → $TRTLLM_WHEEL_PATH).
     */
    trtllm_wheel_path?: string;
    /**
     * Build the wheel from trtllm_repo.
     */
    build_wheel?: boolean;
    /**
     * CUDA architectures for the build.
     */
    cuda_architectures?: string;
    /**
     * Launcher directory (<full_path_to_work_dir> → $SCRIPT_DIR).
     */
    work_dir?: string;
    /**
     * Dataset file (old configs).
     */
    dataset_file?: string;
    /**
     * Log directory (overrides the default).
     */
    log_dir?: string;
    /**
     * Space-separated K=V for every worker.
     */
    worker_env_var?: string;
    /**
     * Space-separated K=V for context workers.
     */
    ctx_worker_env_var?: string;
    /**
     * Space-separated K=V for generation workers.
     */
    gen_worker_env_var?: string;
    /**
     * Space-separated K=V for the disagg server.
     */
    server_env_var?: string;
  };
  /**
   * Profiling.
   */
  profiling?: {
    /**
     * Profile with Nsight Systems.
     */
    nsys_on?: boolean;
    /**
     * Iteration range profiled on context workers, e.g. 10-30.
     */
    ctx_profile_range?: string;
    /**
     * Iteration range profiled on generation workers, e.g. 200-250.
     */
    gen_profile_range?: string;
  };
  /**
   * lm-eval settings for the launcher (distinct from metadata.accuracy).
   */
  accuracy?: {
    /**
     * Run lm-eval after the benchmark (required for accuracy and stress tests).
     */
    enable_accuracy_test?: boolean;
    /**
     * lm-eval model type (older flat shape).
     */
    model?: string;
    /**
     * lm-eval tasks: a name ("gsm8k") or a map of task → {model, model_args_extra, extra_kwargs}.
     */
    tasks?: ATaskNameSuchAsGsm8K | AMapOfTaskNameModelModelArgsExtraExtraKwargs;
    /**
     * Extra lm-eval model_args (older flat shape).
     */
    model_args_extra?: string;
    /**
     * Environment variables (name → value).
     */
    env_var?: {
      [k: string]: string | number | boolean;
    };
    /**
     * lm-eval concurrency (oldest shape).
     */
    num_concurrent?: number;
    /**
     * lm-eval retries (oldest shape).
     */
    max_retries?: number;
    /**
     * lm-eval tokenized requests (oldest shape).
     */
    tokenized_requests?: boolean;
    /**
     * lm-eval request timeout in seconds (oldest shape).
     */
    timeout?: number;
    /**
     * lm-eval max generated tokens (oldest shape).
     */
    max_gen_toks?: number;
    /**
     * lm-eval max length (oldest shape).
     */
    max_length?: number;
  };
  /**
   * Sequence lengths (old configs).
   */
  sequence?: {
    /**
     * Input sequence length (old configs; now benchmark.input_length).
     */
    input_length?: number;
    /**
     * Output sequence length (old configs; now benchmark.output_length).
     */
    output_length?: number;
  };
  /**
   * Worker options, written to ctx_config.yaml / gen_config.yaml.
   */
  worker_config: {
    ctx: WorkerOptions;
    gen: WorkerOptions;
    /**
     * EPLB slots (old configs).
     */
    eplb_num_slots?: number;
  };
  /**
   * Settings of the simulated serving stack (vitest-disagg only).
   */
  simulator?: {
    /**
     * Real seconds per simulated second (0.01 = 100× faster).
     */
    time_scale?: number;
    /**
     * Probability that the simulated model answers correctly.
     */
    accuracy?: number;
    /**
     * Mix of answer styles.
     */
    answer_styles?: {
      /**
       * Share of answers like 'The answer is N.'
       */
      strict?: number;
      /**
       * Share with the number only at the end.
       */
      flexible?: number;
      /**
       * Share with no usable answer.
       */
      none?: number;
    };
    /**
     * Number of gsm8k-style questions.
     */
    num_questions?: number;
    /**
     * Random seed.
     */
    seed?: number;
    /**
     * Relative run-to-run noise of the simulated service times (default 0.01 = 1 %): each server gets one factor per run and each prefill batch, KV transfer and decode iteration its own, seeded by the job id. 0 makes reruns identical. The env var DISAGG_SIM_NOISE overrides it.
     */
    noise?: number;
    /**
     * Slow the simulated serving stack by this factor (1.15 = 15 % slower). Outside the config hash, so a slowed run is judged against the normal runs' history. The env var DISAGG_SIM_SLOWDOWN overrides it.
     */
    slowdown?: number;
    /**
     * Injected faults.
     */
    faults?: {
      /**
       * Crash one worker with a Python traceback.
       */
      crash?: {
        worker?: 'ctx' | 'gen';
        index?: number;
        after_s?: number;
        message?: string;
      };
      /**
       * Share of completion requests answered with HTTP 500.
       */
      http_500_rate?: number;
      /**
       * Stop answering (true, or {after_s}).
       */
      hang?: TrueFalse | AfterSSeconds;
      /**
       * Exit code of the job script after the benchmark.
       */
      exit_code?: number;
    };
  };
  /**
   * Perf gates (vitest-disagg only): per metric an absolute limit, a reference with a tolerance and/or no regression against history. A failed gate fails the test.
   *
   * Items: A perf gate on one metric.
   */
  gates?: {
    /**
     * A `disagg parse bench --json` key (p99_ttft_ms, output_throughput) or an original CSV metric name.
     */
    metric: string;
    /**
     * The concurrencies it applies to; default every measured one.
     */
    concurrency?: number | number[];
    /**
     * Overrides the direction read from the metric name.
     */
    higher_is_better?: boolean;
    /**
     * Absolute limit (SLA): at most this when lower is better, at least this when higher is better.
     */
    limit?: number;
    /**
     * Reference value; the current value may be worse by at most `tolerance`.
     */
    reference?: number;
    /**
     * Relative tolerance, a fraction (default 0.05), for reference and history.
     */
    tolerance?: number;
    /**
     * No regression against the test's earlier passed runs (same config hash and GPU type).
     */
    history?:
      | boolean
      | {
          /**
           * Baseline: the last N passed runs by end time (default 5; 0 = all).
           */
          runs?: number;
          /**
           * Fewer baseline runs give no verdict (default 3).
           */
          min_runs?: number;
          /**
           * Smallest allowed worsening, a fraction (default: the gate's tolerance, else 0.05).
           */
          tolerance?: number;
          /**
           * Allowed worsening in units of the baseline's relative noise (default 3).
           */
          noise_k?: number;
        };
  }[];
  /**
   * Free extension key, e.g. a YAML anchor to reuse with *alias or <<: *alias.
   *
   * This interface was referenced by `VitestDisaggTestConfig`'s JSON-Schema definition
   * via the `patternProperty` "^x-".
   */
  [k: string]:
    | {
        [k: string]: unknown;
      }
    | {
        /**
         * Model label used in logs and the CSV.
         */
        model_name?: string;
        /**
         * Model precision label.
         */
        precision?: string;
        /**
         * Model folder below $MODEL_DIR; <model_path> resolves to $MODEL_DIR/<model_dir_name>.
         */
        model_dir_name?: string;
        /**
         * GPU types (env GPU_TYPE) this config runs on; default GB200, GB300, H100, B200, B300.
         */
        supported_gpus?: string[];
        /**
         * SLURM batch script of the launcher.
         */
        script_file?: string;
        /**
         * Informational, e.g. 1k1k.
         */
        benchmark_type?: string;
        /**
         * Informational index.
         */
        config_index?: number;
        /**
         * Benchmark dataset below $DATASET_DIR; <dataset_file> resolves to $DATASET_DIR/<dataset_file>.
         */
        dataset_file?: string;
        /**
         * Accuracy thresholds (accuracy and stress tests).
         */
        accuracy?: {
          /**
           * Datasets to judge (required for accuracy and stress tests).
           */
          datasets?: AccuracyDataset[];
          metrics?: MetricsOverride;
        };
        metrics?: MetricsOverride;
      }
    | {
        /**
         * SLURM batch script.
         */
        script_file?: string;
        /**
         * SLURM partition (<partition> → $SLURM_PARTITION).
         */
        partition?: string;
        /**
         * SLURM account (<account> → $SLURM_ACCOUNT).
         */
        account?: string;
        /**
         * SLURM --time limit.
         */
        job_time?: ASLURMTimeSuchAs040000HHMMSSOr1000000 | ANumberOfMinutes;
        /**
         * SLURM job name.
         */
        job_name?: string;
        /**
         * Extra sbatch arguments, space separated.
         */
        extra_args?: string;
        /**
         * Bind workers to NUMA nodes.
         */
        numa_bind?: boolean;
        /**
         * Add --segment=<total nodes>. Default true, as upstream submit.py; false for SLURM before 24.11 (no --segment there). Never added for the simulator.
         */
        set_segment?: boolean;
        /**
         * Let SLURM requeue the job after a node failure (--requeue). Default false: --no-requeue, so a job on a failed node ends as NODE_FAIL and its test fails with that reason.
         */
        requeue?: boolean;
      }
    | {
        /**
         * Benchmark mode.
         */
        mode?: 'e2e' | 'gen_only' | 'gen_only_no_context' | 'ctx_only';
        /**
         * Use the NVIDIA SA benchmark client (not in gen_only mode).
         */
        use_nv_sa_benchmark?: boolean;
        /**
         * Rounds per concurrency.
         */
        multi_round?: number;
        /**
         * Shortest request as a share of input/output length, used by the SA client only (use_nv_sa_benchmark: true), where it must be above 0; upstream perf-sanity configs write 0.0 without the SA client.
         */
        benchmark_ratio?: number;
        /**
         * Stream tokens (must be true).
         */
        streaming?: boolean;
        /**
         * Concurrency levels to benchmark: "1 2 4", 12288 or [1, 2, 4].
         */
        concurrency_list?:
          ASpaceSeparatedListOfPositiveIntegersSuchAs1248 | APositiveInteger | AListOfPositiveIntegers;
        /**
         * Input sequence length (tokens).
         */
        input_length?: number;
        /**
         * Output sequence length (tokens).
         */
        output_length?: number;
        /**
         * Dataset file (<dataset_file> → $DATASET_DIR/<metadata.dataset_file>).
         */
        dataset_file?: string;
        /**
         * Run the benchmark client (default true).
         */
        enable_benchmark?: boolean;
        /**
         * Environment variables (name → value).
         */
        env_var?: {
          [k: string]: string | number | boolean;
        };
        slo?: SLO;
      }
    | {
        /**
         * GPUs per node.
         */
        gpus_per_node?: number;
        /**
         * Number of context servers.
         */
        num_ctx_servers?: number;
        /**
         * Number of generation servers.
         */
        num_gen_servers?: number;
        /**
         * GPU types this config runs on (also read from metadata.supported_gpus).
         */
        supported_gpus?: string[];
        /**
         * Informational GPU type (old configs).
         */
        gpu_type?: string;
      }
    | {
        /**
         * Container mounts src:dst,… (<container_mount> is assembled from WORK_DIR, SCRIPT_DIR, MODEL_DIR, OUTPUT_PATH, …).
         */
        container_mount?: string;
        /**
         * Container image (<container_image> → $CONTAINER_IMAGE).
         */
        container_image?: string;
        /**
         * Model path (<model_path> → $MODEL_DIR/<metadata.model_dir_name>).
         */
        model_path?: string;
        /**
         * TensorRT-LLM source checkout (<trtllm_repo> → $REPO_DIR).
         */
        trtllm_repo?: string;
        /**
         * TensorRT-LLM wheel (<trtllm_wheel_path> → $TRTLLM_WHEEL_PATH).
         */
        trtllm_wheel_path?: string;
        /**
         * Build the wheel from trtllm_repo.
         */
        build_wheel?: boolean;
        /**
         * CUDA architectures for the build.
         */
        cuda_architectures?: string;
        /**
         * Launcher directory (<full_path_to_work_dir> → $SCRIPT_DIR).
         */
        work_dir?: string;
        /**
         * Dataset file (old configs).
         */
        dataset_file?: string;
        /**
         * Log directory (overrides the default).
         */
        log_dir?: string;
        /**
         * Space-separated K=V for every worker.
         */
        worker_env_var?: string;
        /**
         * Space-separated K=V for context workers.
         */
        ctx_worker_env_var?: string;
        /**
         * Space-separated K=V for generation workers.
         */
        gen_worker_env_var?: string;
        /**
         * Space-separated K=V for the disagg server.
         */
        server_env_var?: string;
      }
    | {
        /**
         * Profile with Nsight Systems.
         */
        nsys_on?: boolean;
        /**
         * Iteration range profiled on context workers, e.g. 10-30.
         */
        ctx_profile_range?: string;
        /**
         * Iteration range profiled on generation workers, e.g. 200-250.
         */
        gen_profile_range?: string;
      }
    | {
        /**
         * Run lm-eval after the benchmark (required for accuracy and stress tests).
         */
        enable_accuracy_test?: boolean;
        /**
         * lm-eval model type (older flat shape).
         */
        model?: string;
        /**
         * lm-eval tasks: a name ("gsm8k") or a map of task → {model, model_args_extra, extra_kwargs}.
         */
        tasks?: ATaskNameSuchAsGsm8K | AMapOfTaskNameModelModelArgsExtraExtraKwargs;
        /**
         * Extra lm-eval model_args (older flat shape).
         */
        model_args_extra?: string;
        /**
         * Environment variables (name → value).
         */
        env_var?: {
          [k: string]: string | number | boolean;
        };
        /**
         * lm-eval concurrency (oldest shape).
         */
        num_concurrent?: number;
        /**
         * lm-eval retries (oldest shape).
         */
        max_retries?: number;
        /**
         * lm-eval tokenized requests (oldest shape).
         */
        tokenized_requests?: boolean;
        /**
         * lm-eval request timeout in seconds (oldest shape).
         */
        timeout?: number;
        /**
         * lm-eval max generated tokens (oldest shape).
         */
        max_gen_toks?: number;
        /**
         * lm-eval max length (oldest shape).
         */
        max_length?: number;
      }
    | {
        /**
         * Input sequence length (old configs; now benchmark.input_length).
         */
        input_length?: number;
        /**
         * Output sequence length (old configs; now benchmark.output_length).
         */
        output_length?: number;
      }
    | {
        ctx: WorkerOptions;
        gen: WorkerOptions;
        /**
         * EPLB slots (old configs).
         */
        eplb_num_slots?: number;
      }
    | {
        /**
         * Real seconds per simulated second (0.01 = 100× faster).
         */
        time_scale?: number;
        /**
         * Probability that the simulated model answers correctly.
         */
        accuracy?: number;
        /**
         * Mix of answer styles.
         */
        answer_styles?: {
          /**
           * Share of answers like 'The answer is N.'
           */
          strict?: number;
          /**
           * Share with the number only at the end.
           */
          flexible?: number;
          /**
           * Share with no usable answer.
           */
          none?: number;
        };
        /**
         * Number of gsm8k-style questions.
         */
        num_questions?: number;
        /**
         * Random seed.
         */
        seed?: number;
        /**
         * Relative run-to-run noise of the simulated service times (default 0.01 = 1 %): each server gets one factor per run and each prefill batch, KV transfer and decode iteration its own, seeded by the job id. 0 makes reruns identical. The env var DISAGG_SIM_NOISE overrides it.
         */
        noise?: number;
        /**
         * Slow the simulated serving stack by this factor (1.15 = 15 % slower). Outside the config hash, so a slowed run is judged against the normal runs' history. The env var DISAGG_SIM_SLOWDOWN overrides it.
         */
        slowdown?: number;
        /**
         * Injected faults.
         */
        faults?: {
          /**
           * Crash one worker with a Python traceback.
           */
          crash?: {
            worker?: 'ctx' | 'gen';
            index?: number;
            after_s?: number;
            message?: string;
          };
          /**
           * Share of completion requests answered with HTTP 500.
           */
          http_500_rate?: number;
          /**
           * Stop answering (true, or {after_s}).
           */
          hang?: TrueFalse | AfterSSeconds;
          /**
           * Exit code of the job script after the benchmark.
           */
          exit_code?: number;
        };
      }
    | {
        /**
         * A `disagg parse bench --json` key (p99_ttft_ms, output_throughput) or an original CSV metric name.
         */
        metric: string;
        /**
         * The concurrencies it applies to; default every measured one.
         */
        concurrency?: number | number[];
        /**
         * Overrides the direction read from the metric name.
         */
        higher_is_better?: boolean;
        /**
         * Absolute limit (SLA): at most this when lower is better, at least this when higher is better.
         */
        limit?: number;
        /**
         * Reference value; the current value may be worse by at most `tolerance`.
         */
        reference?: number;
        /**
         * Relative tolerance, a fraction (default 0.05), for reference and history.
         */
        tolerance?: number;
        /**
         * No regression against the test's earlier passed runs (same config hash and GPU type).
         */
        history?:
          | boolean
          | {
              /**
               * Baseline: the last N passed runs by end time (default 5; 0 = all).
               */
              runs?: number;
              /**
               * Fewer baseline runs give no verdict (default 3).
               */
              min_runs?: number;
              /**
               * Smallest allowed worsening, a fraction (default: the gate's tolerance, else 0.05).
               */
              tolerance?: number;
              /**
               * Allowed worsening in units of the baseline's relative noise (default 3).
               */
              noise_k?: number;
            };
      }[]
    | undefined;
}
/**
 * One accuracy dataset to judge.
 */
export interface AccuracyDataset {
  /**
   * lm-eval task / dataset name (default gsm8k).
   */
  name?: string;
  /**
   * Same as name (the spelling used by the real TensorRT-LLM configs).
   */
  dataset_name?: string;
  /**
   * Reference accuracy as a fraction, e.g. 0.9454.
   */
  expected_value: number;
  /**
   * hypothesis_test (statistical test against expected_value) or absolute (allowed drop = tolerance).
   */
  threshold_type?: 'hypothesis_test' | 'absolute';
  /**
   * lm-eval filter column to judge.
   */
  filter_type?: string;
  /**
   * lm-eval metric column to judge (default exact_match for gsm8k).
   */
  metric?: string;
  /**
   * Type I error rate of the hypothesis test (default 0.05).
   */
  alpha?: number;
  /**
   * Type II error rate of the hypothesis test (default 0.2).
   */
  beta?: number;
  /**
   * Standard deviation of the score.
   */
  sigma?: number;
  /**
   * Number of samples the score is computed from.
   */
  num_samples?: number;
  /**
   * Direction of the metric (default true).
   */
  higher_is_better?: boolean;
  /**
   * For threshold_type absolute: allowed drop below expected_value (fraction).
   */
  tolerance?: number;
  /**
   * Older spelling of an absolute threshold (allowed drop).
   */
  threshold?: number;
}
/**
 * Override of the default metric parsing; each key replaces the default independently.
 */
export interface MetricsOverride {
  /**
   * Log file (glob) to parse, relative to the job's log dir.
   */
  log_file?: string;
  /**
   * Regular expression that extracts the metric values.
   */
  extractor_pattern?: string;
  /**
   * Names of the values the pattern captures, in order.
   */
  metric_names?: string[];
}
/**
 * Latency objectives per request for goodput (requests/s meeting every stated one) and SLO attainment (% of requests meeting them); each optional, at least one. Overrides the suite-wide slo option.
 */
export interface SLO {
  /**
   * Time to first token, at most this many ms.
   */
  ttft_ms?: number;
  /**
   * Time per output token after the first, at most this many ms (a request with one output token has none and meets it, as in vLLM).
   */
  tpot_ms?: number;
  /**
   * End-to-end latency, at most this many ms.
   */
  e2el_ms?: number;
}
export interface AMapOfTaskNameModelModelArgsExtraExtraKwargs {
  /**
   * One lm-eval task.
   */
  [k: string]: {
    /**
     * lm-eval model type.
     */
    model?: string;
    /**
     * Extra lm-eval model_args, k=v,…
     */
    model_args_extra?: string;
    /**
     * Extra lm-eval flags: true → --key, custom_config → --include_path, else --key=value.
     */
    extra_kwargs?: {
      [k: string]: string | number | boolean;
    };
  };
}
/**
 * TensorRT-LLM LLM-API options, passed to trtllm-serve unchanged. Only the fields below are type-checked.
 */
export interface WorkerOptions {
  tensor_parallel_size?: number;
  pipeline_parallel_size?: number;
  context_parallel_size?: number;
  moe_expert_parallel_size?: number;
  max_batch_size?: number;
  max_num_tokens?: number;
  max_seq_len?: number;
  enable_attention_dp?: boolean;
  speculative_config?: {
    num_nextn_predict_layers?: number;
    decoding_type?: string;
    [k: string]: unknown;
  } | null;
  [k: string]: unknown;
}
export interface AfterSSeconds {
  after_s?: number;
}
