// A small, dependency-free SVG of the equity curve and its drawdown (an MLflow artifact image).
import type { BacktestStats } from "@tradai/engine";

const WIDTH = 800;
const HEIGHT = 360;
const PAD = 40;

export function renderEquityChart(stats: BacktestStats): string {
  const points = [
    { timestamp: stats.backtest_start_ts, balance: stats.starting_balance },
    ...stats.equity_curve,
  ];
  const times = points.map((point) => point.timestamp);
  const balances = points.map((point) => point.balance);
  const tMin = Math.min(...times);
  const tMax = Math.max(...times, tMin + 1);
  const bMin = Math.min(...balances);
  const bMax = Math.max(...balances, bMin + 1e-9);
  const x = (t: number) => PAD + ((t - tMin) / (tMax - tMin)) * (WIDTH - 2 * PAD);
  const y = (b: number) => HEIGHT - PAD - ((b - bMin) / (bMax - bMin)) * (HEIGHT - 2 * PAD);
  let peak = -Infinity;
  const drawdown = points.map((point) => {
    peak = Math.max(peak, point.balance);
    return `${x(point.timestamp).toFixed(1)},${y(peak).toFixed(1)} `;
  });
  const equity = points
    .map((point) => `${x(point.timestamp).toFixed(1)},${y(point.balance).toFixed(1)}`)
    .join(" ");
  const title = `${stats.strategy_name}: ${stats.backtest_start} .. ${stats.backtest_end}, profit ${(stats.profit_total * 100).toFixed(2)} %, max drawdown ${(stats.max_drawdown_account * 100).toFixed(2)} %`;
  const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}">
<rect width="100%" height="100%" fill="white"/>
<text x="${PAD}" y="20" font-family="sans-serif" font-size="12">${escape(title)}</text>
<polyline fill="none" stroke="#d62728" stroke-dasharray="4 3" stroke-width="1" points="${drawdown.join("").trim()}"/>
<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="${equity}"/>
<text x="${PAD}" y="${HEIGHT - 10}" font-family="sans-serif" font-size="11">${bMin.toFixed(2)} .. ${bMax.toFixed(2)} ${escape(stats.stake_currency)} (blue: balance, red: running peak)</text>
</svg>
`;
}
