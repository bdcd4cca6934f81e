/**
 * slimnet's programmatic API. Everything here is typed and async where it touches the runtime;
 * the CLI and the wizard are thin layers over these same functions.
 */
export * from './ir/index.js';
export { loadModel, loadModelFromBytes, saveModel, modelToBytes, type SaveOptions, type SaveResult, type LoadOptions } from './onnx/io.js';
export { Engine, defaultEngine, type CreateSessionOptions } from './runtime/engine.js';
export { providerStatus, ortVersion, KNOWN_PROVIDERS } from './runtime/providers.js';
export type { ExecutionProvider, Feeds, OrtType, Session, SessionInfo, SessionOptions, TensorData, ProviderStatus, OptimizationLevel, EngineOptions, Runtime } from './runtime/types.js';
export { fromIrTensor, toIrTensor, asFloat32, ortType } from './runtime/tensor-data.js';
export { inspectModel, formatInspectReport, type InspectReport } from './inspect/inspect.js';
export { OP_SUPPORT, opSupport, type OpSupport, type QuantRole } from './ops/op-support.js';
export { evaluate, type EvaluateOptions, type EvaluationResult, type MetricComparison, type ModelSummary } from './eval/evaluate.js';
export { compareModels, type CompareOptions } from './eval/compare-models.js';
export { analyzeLayers, type LayerAnalysis, type LayerAnalysisOptions, type Sensitivity } from './eval/per-layer.js';
export { rankLayers, type LayerReport, type QuantizerReport, type RankBy, type VariantScore } from './eval/layer-report.js';
export { findQdq, type QdqStructure, type Quantizer, type QuantLayer } from './eval/qdq-structure.js';
export { benchmark, type BenchmarkOptions, type BenchmarkResult, type BenchmarkRow } from './eval/benchmark.js';
export { measureInterleaved, latencyStats, type LatencyStats } from './tune/latency.js';
export { detectHardware, type HardwareInfo } from './target/hardware.js';
export { resolveTarget, describeTarget, type Target } from './target/resolve.js';
export { TARGETS, TARGET_NAMES, type TargetName, type TargetSpec } from './target/targets.js';
export { checkSaturation, findSaturationRisk, type SaturationReport, type OpAtRisk } from './eval/saturation.js';
export { sampleMetric, type Metric, type MetricAccumulator, type MetricBatch } from './eval/metric.js';
export { topK, type Task } from './eval/task-metrics.js';
export type { OutputComparison } from './eval/compare.js';
export { checkGates, enforceGates, type GateSpec, type GateResult } from './eval/gate.js';
export { buildEvalReport, type EvalReport } from './eval/report/eval-report.js';
export { formatEvalText, formatLayersText } from './eval/report/text.js';
export { formatEvalMarkdown } from './eval/report/markdown.js';
export { formatEvalHtml } from './eval/report/html.js';
export { buildBenchReport, formatBenchText, type BenchReport } from './eval/report/bench-report.js';
export { quantize, QUANTIZE_MODES, type QuantizeOptions } from './quantize/quantize.js';
export type { QuantizeResult, QuantizeSummary, NodeDecision, QuantizeMode } from './quantize/types.js';
export type { StaticQuantizeOptions, QuantFormat, Placement } from './quantize/static/options.js';
export type { StaticQuantizeResult } from './quantize/static/quantize-static.js';
export type { QuantPlan, ActivationQuant, WeightQuant, BiasQuant, NodePlan } from './quantize/static/plan.js';
export { formatPlan } from './quantize/static/plan.js';
export type { SpeedCheckReport } from './quantize/static/speed-check.js';
export { formatQuantizeReport, type QuantizeReport } from './quantize/report.js';
export {
  SlimnetError, InvalidModelError, UnsupportedOpError, DataError, OptionError, RuntimeError, PassError, CancelledError, GateFailedError,
} from './errors.js';
export { VERSION } from './version.js';
export * from './calibrate/index.js';
export { modelHash } from './onnx/hash.js';
export type { ProgressEvent, ProgressListener } from './progress.js';
export { quantizeDynamic, type DynamicQuantizeOptions } from './quantize/dynamic/quantize-dynamic.js';
export { quantizeWeightOnly, type WeightOnlyOptions } from './quantize/weight-only/quantize-weight-only.js';
export { convertToFp16, type Fp16Options } from './quantize/fp16/convert.js';
export { prune } from './prune/prune.js';
export { PRUNE_METHODS, PRUNE_SCOPES, type PruneOptions, type PruneMethod, type PruneScope, type ChannelImportance } from './prune/options.js';
export type { PruneResult, PruneSummary, LayerResult, ChannelSummary, ChannelGroupResult, BudgetTrial } from './prune/types.js';
export { formatPlan as formatPrunePlan, type PrunePlan, type LayerPlan, type ChannelGroupPlan, type BlockedGroup, type SkippedLayer } from './prune/plan.js';
export { checkPruned, sizeOf, type PruneCheck, type CheckOptions } from './prune/check.js';
export { formatPruneReport, type PruneReport } from './prune/report.js';
