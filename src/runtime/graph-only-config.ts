/**
 * Session config for an `optimizedModelPath` whose graph is all the caller reads back (node names
 * and ops: the speed check, node profiles): ORT writes the weights to 'weights.bin' beside it, and
 * loadModel never reads them (external data is read when a tensor's values are asked for).
 */
export const GRAPH_ONLY_CONFIG: Readonly<Record<string, string>> = {
  'session.optimized_model_external_initializers_file_name': 'weights.bin',
  'session.optimized_model_external_initializers_min_size_in_bytes': '1024',
};
