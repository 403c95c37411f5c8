import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { mount } from './app';

// Marks for the first-render measurement (end-to-end tests read them).
performance.mark('sightline:start');
mount(document.getElementById('app')!);
