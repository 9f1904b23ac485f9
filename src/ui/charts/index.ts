// Public surface of the charts package (the playground imports from here).
export type { RunSeries, ExportRow } from './types';
export { ChartCard } from './ChartCard';
export { LossCurves } from './LossCurves';
export { LossVsPrefix } from './LossVsPrefix';
export { ApproxChart } from './ApproxChart';
export { CostChart } from './CostChart';
export { PrefixMassHeatmap } from './PrefixMassHeatmap';
export { NtkRegimeChart } from './NtkRegimeChart';
export { fitPowerLaw, powerLawAt, formatSlope, type PowerLawFit } from './fit';
export { toCsv, toJson, serializeSvg, safeFilename, download, captureCard, svgToPng } from './export';
export { lossCurvesRows } from './data';
