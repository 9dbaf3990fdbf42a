// Render report data to the HTML page (charts first: they render asynchronously) and write it.
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { accuracyChart, paretoChart, perfCharts, trendCharts } from './charts.js';
import { renderReportHtml, type SuitePareto, type TestCharts } from './html.js';
import { paretoGroups } from './pareto.js';
import type { ReportData } from './model.js';

export const REPORT_NAME = 'report.html';

export async function renderReport(data: ReportData): Promise<string> {
  const charts = new Map<string, TestCharts>();
  for (const t of data.tests) {
    charts.set(t.testId, {
      perf: await perfCharts(t),
      accuracy: await accuracyChart(t.accuracy),
      trend: trendCharts(t.testId, data.history),
    });
  }
  const pareto: SuitePareto[] = [];
  for (const group of paretoGroups(data.tests)) pareto.push({ group, chart: await paretoChart(group) });
  return renderReportHtml(data, charts, pareto);
}

/** Write the page atomically (a CI job picking up artifacts never sees half a report). */
export async function writeReport(data: ReportData, file: string): Promise<string> {
  const target = path.resolve(file);
  await writeFileAtomic(target, await renderReport(data));
  return target;
}
