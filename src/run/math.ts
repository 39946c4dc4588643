import type { Placement } from '../env/cards.js';
import type { Dtype } from '../workloads/spec.js';

/**
 * The environment that makes a case's math mode what it says. ONNX Runtime's CUDA provider turns
 * TF32 on by default (`use_tf32`) and onnxruntime-node passes only `deviceId`, and TensorFlow
 * (tfjs-node-gpu) enables TF32 on Ampere and later too: without this, every fp32 matmul on an
 * NVIDIA card runs with a 10-bit mantissa. NVIDIA_TF32_OVERRIDE=0 is honoured by cuBLAS and cuDNN
 * whatever the engine asks; any other value leaves the engines' own choice, TF32 on, which is
 * what --dtype tf32 measures (set, so that a 0 inherited from the shell does not turn it off).
 */
export function mathEnv(placement: Placement, dtype: Dtype): Record<string, string> {
  if (placement !== 'cuda') return {};
  return { NVIDIA_TF32_OVERRIDE: dtype === 'tf32' ? '1' : '0' };
}

/** Why a case's math mode cannot run on an engine, or undefined. */
export function mathUnsupported(placement: Placement, dtype: Dtype): string | undefined {
  if (dtype !== 'tf32' || placement === 'cuda') return undefined;
  return `tf32 is a math mode of NVIDIA tensor cores, which only the CUDA engines (ort-cuda, tfjs-node-gpu) use; this engine (${placement}) runs float32 as float32: use --dtype fp32`;
}

/** What the case process ran with, recorded in the case. */
export function mathRecord(dtype: Dtype, env: NodeJS.ProcessEnv = process.env): { mode: Dtype; tf32Override?: string } {
  return { mode: dtype, ...(env.NVIDIA_TF32_OVERRIDE !== undefined ? { tf32Override: env.NVIDIA_TF32_OVERRIDE } : {}) };
}
