/**
 * A config whose verdict keys sit on known lines: gsm8k's `expected_value` on line 5, mmlu's on line 8,
 * `benchmark.concurrency_list` on line 10 (the verdict module and the verdict steps are tested on it).
 */
export const VERDICT_YAML = [
  'metadata:', //                           1
  '  accuracy:', //                         2
  '    datasets:', //                       3
  '      - dataset_name: gsm8k', //         4
  '        expected_value: 0.8', //         5
  '      - name: mmlu', //                  6
  '        tolerance: 0.02', //             7
  '        expected_value: 0.7', //         8
  'benchmark:', //                          9
  '  concurrency_list: "1 4"', //          10
  '',
].join('\n');
