/**
 * A Vulkan ICD chosen through the environment that is a CPU rasteriser (lavapipe)
 * means WebGPU runs in software: fine for tests, never what `auto` should pick.
 */
export function softwareVulkanSelected(env: NodeJS.ProcessEnv = process.env): boolean {
  const files = `${env.VK_ICD_FILENAMES ?? ''}:${env.VK_DRIVER_FILES ?? ''}`;
  return /lvp|lavapipe|swiftshader/i.test(files);
}
