import type { Model } from '../../ir/model.js';
import type { ResolvedPruneOptions } from '../options.js';
import type { PrunePlan } from '../plan.js';
import type { ChannelSummary } from '../types.js';

export interface ChannelContext { base: Model; o: ResolvedPruneOptions }
export async function prepareChannels(base: Model, o: ResolvedPruneOptions): Promise<ChannelContext> { return { base, o }; }
export function planChannels(_ctx: ChannelContext, _s: number): PrunePlan { throw new Error('todo'); }
export async function applyChannels(_ctx: ChannelContext, _plan: PrunePlan): Promise<{ model: Model; channels: ChannelSummary; notes: string[] }> { throw new Error('todo'); }
