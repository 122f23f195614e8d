// TF.js's WebGPU backend and its kernels, imported dynamically by backend.ts: a chunk of its own that
// only a tab about to run webgpu loads (registering it needs navigator.gpu, or it registers nothing).
import '@tensorflow/tfjs-backend-webgpu';
